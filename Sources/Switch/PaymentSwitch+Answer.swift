import Synchronization
import Logging
import Dispatch
import ISO8583
import Metrics
import PaymentModel
import Routing
import Transport

extension PaymentSwitch {
    /// A channel is done with a request: the host answered, it timed out, or its link was lost.
    func channelDone(_ channel: Channel, _ entry: InFlight, _ completion: ChannelCompletion) {
        let request = entry.request
        let now = ContinuousClock.now
        switch completion {
        case .failed(let code, let outcome):
            router.health.record(outcome, channel: channel.name, merchant: entry.merchant, at: now)
            if outcome == .timeout {
                logger.warning("no answer in time: declined", metadata: ["channel": "\(channel.name)", "rule": "\(request.ruleID)"])
            }
            // The host may have acted on a request it did not answer: it is reversed, durably, first.
            if compensateBeforeAnswering(request, channel: channel, code: code) { return }
            answerLocally(request, code)
        case .iso8583(let answer):
            let took = DispatchTime.now().uptimeNanoseconds &- entry.sent
            channel.latency.recordNanoseconds(Int64(clamping: took))
            guard let host = channel.iso8583 else { return answerLocally(request, .systemError) }
            let result = answer.string(39).flatMap { host.mapping.result(forResponseCode: $0, messageClass: answer.mti.messageClass, results: results) }
                ?? .systemError
            router.health.record(ChannelOutcome(result: result), channel: channel.name, merchant: entry.merchant, at: now)
            do {
                // Passed through in the same dialect, the answer keeps the host's DE 39: the journal need not decode it again.
                let code = durability != nil && request.listener.iso8583?.isSameDialect(as: host) == true ? answer.string(39) : nil
                let approvalCode = durability != nil && answer.contains(38) ? answer.string(38) : nil
                finish(request, try answerBytes(from: answer, result: result, channel: channel, for: request), result: result, hostNanoseconds: took,
                       responseCode: code, approvalCode: approvalCode)
            } catch {
                logger.error("the host's answer cannot be carried back", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
                // The host approved what the originator will see declined: reversed first, so both agree.
                if result.category == .approved, compensateBeforeAnswering(request, channel: channel, code: .systemError) { return }
                answerLocally(request, .systemError)
            }
        case .iso20022(let bytes, let answer):
            let took = DispatchTime.now().uptimeNanoseconds &- entry.sent
            channel.latency.recordNanoseconds(Int64(clamping: took))
            let result = ISO20022Leg.result(of: answer, results: results)
            router.health.record(ChannelOutcome(result: result), channel: channel.name, merchant: entry.merchant, at: now)
            do {
                // The originator's report carries the bank's status and reason: the journal need not decode it again.
                finish(request, try ISO20022Leg.answer(bytes, answer, for: request), result: result, hostNanoseconds: took,
                       responseCode: durability == nil ? nil : ISO20022Support.statusText(of: answer))
            } catch {
                logger.error("the host's answer cannot be carried back", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
                answerLocally(request, .systemError)
            }
        }
    }

    /// The host's ISO 8583 answer in the originator's form, with the originator's STAN and RRN.
    private func answerBytes(from answer: ISO8583Message, result: ResultCode, channel: Channel, for request: InboundRequest) throws -> [UInt8] {
        guard case .iso8583(let original) = request.message, let source = request.listener.iso8583, let host = channel.iso8583 else {
            throw SwitchError("an ISO 8583 answer for a request that was not ISO 8583")
        }
        if source.isSameDialect(as: host) {
            var message = answer
            guard let stan = original.integer(11), message.overwriteDigits(11, with: UInt64(stan)) else {
                throw SwitchError("the answer's DE 11 cannot take the originator's STAN back")
            }
            // An RRN the switch assigned is its own: the originator did not send one.
            if !original.contains(37) { message.remove(37) }
            // The link's MAC is the link's: the originator holds no key for it.
            if channel.mac != nil {
                message.remove(64)
                message.remove(128)
            }
            return try message.receivedFrame ?? message.encoded(as: source.dialect)
        }
        // Across dialects the answer gives back what the host echoed, as the originator sent it
        // (dates, original data, merchant), with what the host decided laid over it. Rebuilt from
        // the host's answer instead, echoed fields came back in the host's form (a 1993 DE 15 in a
        // 1987 answer, DE 56 re-padded, DE 12's year guessed).
        let hostAnswer = try host.mapping.canonical(from: answer, dialect: host.dialect, results: results)
        let echoed = Set(source.mapping.echoedFields(of: original, answer: hostAnswer))
        var message = original.answerSkeleton()
        for field in message.fieldNumbers where !echoed.contains(field) { message.remove(field) }
        message.set(39, source.mapping.responseCode(for: result, results: results) ?? (source.mapping.usesActionCodes ? "909" : "96"))
        for field in answer.fieldNumbers where Self.decidedByHost.contains(field) {
            guard let text = answer.string(field), let target = source.dialect[field: field] else {
                metrics.droppedField(channel: channel.name, field: "answer-\(field)")
                continue
            }
            // Binary values are read as hexadecimal text; a dialect that writes them as text takes that text.
            if target.fieldClass == .binary {
                guard let bytes = Hex.decode(text) else { continue }
                message.set(field, bytes: bytes)
            } else {
                message.set(field, text)
            }
        }
        return try message.encoded(as: source.dialect)
    }

    /// Fields of an answer the host decides, carried to an originator in another dialect: the
    /// approval code, additional response data, additional amounts (balances), the issuer's EMV data.
    static let decidedByHost: Set<Int> = [38, 44, 54, 55]

    /// Answers a request from the switch itself (declined by a rule, no channel, timeout, format
    /// error, duplicate) in the originator's form.
    func answerLocally(_ request: InboundRequest, _ code: ResultCode, forward: ForwardItem? = nil,
                       onStored: (@Sendable (ForwardItem) -> Void)? = nil) {
        do {
            let bytes: [UInt8]
            var responseCode: String? = nil
            switch (request.message, request.listener.configuration.wire) {
            case (.iso8583(let original), .iso8583(let dialect, let mapping)):
                var answer = original.answerSkeleton()
                let answerCode = mapping.responseCode(for: code, results: results) ?? (mapping.usesActionCodes ? "909" : "96")
                answer.set(39, answerCode)
                responseCode = answerCode
                bytes = try answer.encoded(as: dialect)
            case (.iso20022(_, let payment), _):
                bytes = try ISO20022Leg.localAnswer(to: payment, code: code, results: results)
            default:
                throw SwitchError("a request in a form its listener does not speak")
            }
            finish(request, bytes, result: code, responseCode: responseCode, forward: forward, onStored: onStored)
        } catch {
            // Nothing can be sent back: the originator will time out. Logged, never silent.
            logger.error("cannot build the switch's own answer", metadata: ["listener": "\(request.listener.name)", "error": "\(error)"])
            release(request)
        }
    }

    /// Sends the one answer a request gets and releases its duplicate key; with storage, the
    /// answer goes out once the transaction's journal record (and the forward item it leaves) is written.
    ///
    /// - Parameter responseCode: The answer's DE 39 when the caller has it at hand (else the journal reads it from `bytes`).
    func finish(_ request: InboundRequest, _ bytes: [UInt8], result: ResultCode, hostNanoseconds: UInt64? = nil, responseCode: String? = nil,
                approvalCode: String? = nil, forward: ForwardItem? = nil, onStored: (@Sendable (ForwardItem) -> Void)? = nil) {
        release(request)
        metrics.answer(listener: request.listener.name, channel: request.channelName, rule: request.ruleID, result: result)
        guard let writer = durability?.writer, request.journalPlace != .shed else {
            return request.deliver(bytes)
        }
        writer.journal(JournalEntry(request: request, answer: bytes, result: result, finished: DispatchTime.now().uptimeNanoseconds,
                                    hostNanoseconds: hostNanoseconds, responseCode: responseCode, approvalCode: approvalCode,
                                    forward: forward, onStored: onStored))
    }

    private func release(_ request: InboundRequest) {
        if let key = request.duplicateKey { _ = duplicates.withLock { $0.remove(key) } }
    }
}
