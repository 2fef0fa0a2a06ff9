import Logging
import Dispatch
import ISO8583
import Metrics
import PaymentModel
import Routing
import SecurityModule
import Synchronization
import Transport

#if canImport(Glibc)
import Glibc
#endif

extension PaymentSwitch {
    /// A frame from a terminal or acquirer: decode, answer locally or route and forward.
    func received(_ frame: Frame, on connection: Connection, _ context: ListenerContext, _ session: InboundSession) {
        // Shutting down: requests read now would have no time to be answered; they are not read.
        if draining.load(ordering: .relaxed) { return connection.pauseReading() }
        let payload = Array(frame.payload)
        let header = Array(frame.header)
        context.requests.increment()
        if let side = context.iso8583 {
            receivedISO8583(payload, header: header, dialect: side.dialect, mapping: side.mapping, on: connection, context, session)
        } else {
            receivedISO20022(payload, header: header, on: connection, context, session)
        }
    }

    private func receivedISO8583(_ payload: [UInt8], header: [UInt8], dialect: Dialect, mapping: ISO8583Mapping,
                                 on connection: Connection, _ context: ListenerContext, _ session: InboundSession) {
        let message: ISO8583Message
        do {
            message = try ISO8583Message(decoding: payload, dialect: dialect)
        } catch {
            return undecodable(payload, error: error, header: header, dialect: dialect, mapping: mapping, on: connection, context, session)
        }
        guard message.mti.expectsResponse else {
            metrics.undecodableRequest(listener: context.name)
            logger.warning("not a request: ignored", metadata: ["listener": "\(context.name)", "mti": "\(message.mti)", "stan": "\(message.string(11) ?? "-")"])
            return
        }
        if message.mti.messageClass == 8 {
            // Sign-on, sign-off, echo, key change from a terminal: answered here, never routed.
            let answer = NetworkManagement.answer(to: message, mapping: mapping, results: results)
            if let bytes = try? answer.encoded(as: dialect) { connection.sendAnswer(bytes, header: header) }
            metrics.answer(listener: context.name, channel: "-", rule: "network", result: ResultCode(8000)!)
            return
        }
        // Matching, duplicate detection and the STAN the switch gives each host all start from the
        // originator's DE 11: a request without a six-digit one is malformed, not a routing failure.
        guard message.length(11) == 6, message.integer(11) != nil else {
            logger.warning("request without a six-digit STAN (DE 11): format error", metadata: ["listener": "\(context.name)", "mti": "\(message.mti)"])
            let request = InboundRequest(connection: connection, listener: context, header: header, message: .iso8583(message), duplicateKey: nil)
            guard admit(request) else { return }
            return answerLocally(request, .formatError)
        }
        let keyFields = context.configuration.duplicateKeyFields
        var identity: [String] = []
        identity.reserveCapacity(1 + keyFields.count)  // one allocation, not one per growth
        identity.append(message.string(11) ?? "")
        for field in keyFields { identity.append(message.string(field) ?? "") }
        let key = DuplicateKey(listener: context.index, messageClass: message.mti.messageClass, identity: identity)
        let payment: PaymentMessage
        do {
            // What routing reads; a channel that needs a translation maps the request in full (`outboundBytes`).
            payment = try mapping.canonical(from: message, dialect: dialect, results: results, scope: .routing)
        } catch {
            logger.error("request does not map to the canonical message", metadata: ["listener": "\(context.name)", "error": "\(error)"])
            let request = InboundRequest(connection: connection, listener: context, header: header, message: .iso8583(message), duplicateKey: nil)
            guard admit(request) else { return }
            return answerLocally(request, .formatError)
        }
        let request = InboundRequest(connection: connection, listener: context, header: header, message: .iso8583(message), duplicateKey: key)
        guard register(request) else { return }
        claimThenRoute(request, payment, message: message, identity: identity)
    }

    /// A frame that does not decode: a format-error answer when its MTI and STAN can be read, and
    /// the connection closed after too many.
    private func undecodable(_ payload: [UInt8], error: ISO8583Error, header: [UInt8], dialect: Dialect, mapping: ISO8583Mapping,
                             on connection: Connection, _ context: ListenerContext, _ session: InboundSession) {
        metrics.undecodableRequest(listener: context.name)
        // The error names field, offset and reason; it never quotes a sensitive value.
        logger.warning("undecodable request", metadata: ["listener": "\(context.name)", "remote": "\(connection.remoteAddress)", "error": "\(error)"])
        if let head = ISO8583Message.readableHead(of: payload, dialect: dialect)?.message, head.mti.expectsResponse, head.contains(11) {
            var answer = head.answerSkeleton()
            answer.set(39, mapping.responseCode(for: .formatError, results: results) ?? "30")
            if let bytes = try? answer.encoded(as: dialect) { connection.sendAnswer(bytes, header: header) }
            metrics.answer(listener: context.name, channel: "-", rule: "-", result: .formatError)
        }
        session.undecodable += 1
        if session.undecodable >= InboundSession.undecodableLimit {
            logger.warning("closing a connection that sent too many undecodable frames", metadata: ["remote": "\(connection.remoteAddress)"])
            connection.close()
        }
    }

    /// Reserves the request's place in the journal; when the journal is full it is shed (answered
    /// with a system error, not journalled) rather than accepted with a record that could be lost.
    func admit(_ request: InboundRequest) -> Bool {
        guard let writer = durability?.writer else { return true }
        guard writer.admit() else {
            request.journalPlace = .shed
            metrics.shed(listener: request.listener.name)
            answerLocally(request, .systemError)
            return false
        }
        request.journalPlace = .reserved
        return true
    }

    /// Admits the request and takes its key in the duplicate registry; a key already there is a
    /// duplicate transmission, answered as such and not forwarded.
    func register(_ request: InboundRequest) -> Bool {
        guard admit(request) else { return false }
        guard let key = request.duplicateKey else { return true }
        let fresh = duplicates.withLock { $0.insert(key).inserted }
        if !fresh {
            metrics.duplicate(listener: request.listener.name)
            logger.warning("duplicate transmission refused: the same request is in flight", metadata: ["listener": "\(request.listener.name)"])
            // Answered without the key: the original still holds it.
            let duplicate = InboundRequest(connection: request.connection, listener: request.listener, header: request.header,
                                           message: request.message, duplicateKey: nil)
            duplicate.journalPlace = request.journalPlace
            answerLocally(duplicate, .duplicateTransmission)
        }
        return fresh
    }

    /// Routes a canonical request and forwards it to the first candidate channel that takes it.
    func route(_ request: InboundRequest, _ payment: PaymentMessage) {
        let result = router.route(payment, RoutingClock.context())
        request.ruleID = result.ruleID
        if let decline = result.decline, result.candidates.isEmpty {
            return answerLocally(request, decline)
        }
        // An advice is the switch's to deliver once stored: acknowledged to its originator then.
        if case .iso8583(let message) = request.message, message.mti.function == 2, durability != nil,
           let channel = result.candidates.lazy.compactMap({ self.channels[$0] }).first(where: { $0.iso8583 != nil }) {
            return storeAdvice(request, channel: channel)
        }
        for name in result.candidates {
            guard let channel = channels[name] else { continue }
            switch forward(request, payment, to: channel) {
            case .sent: return
            case .answered: return
            case .refused: request.refusedBy.append(name)
            }
        }
        answerLocally(request, .issuerUnavailable)
    }

    enum ForwardOutcome { case sent, answered, refused }

    /// Encodes the request for the channel and sends it; refused when the channel has no usable
    /// link or is at its in-flight limit, so the next candidate is tried.
    private func forward(_ request: InboundRequest, _ payment: PaymentMessage, to channel: Channel) -> ForwardOutcome {
        let reference = outboundReference(request, payment, channel)
        let reservation: Channel.Reservation
        switch channel.reserve(request, reference: reference, merchant: payment.merchantID) {
        case .success(let taken): reservation = taken
        case .failure(.duplicateReference):
            answerLocally(request, .duplicateTransmission)
            return .answered
        case .failure: return .refused
        }
        request.channelName = channel.name
        request.hostStan = reservation.stan
        request.hostReference = reference
        if books(request, on: channel) { request.booking = booking(of: request, on: channel) }
        let bytes: [UInt8]
        var outbound: ISO8583Message? = nil
        do {
            bytes = try outboundBytes(request, payment, channel: channel, reservation: reservation, message: &outbound)
            // Checked here: a frame the link cannot carry would be dropped there, and only time out.
            try channel.configuration.framing.checkFits(payloadCount: bytes.count)
        } catch let error as SecurityError {
            // Never forwarded: a PIN block the host could not read, or one that is not what it claims.
            channel.release(reservation)
            metrics.securityViolation(channel: channel.name, kind: "pin")
            logger.warning("PIN block not translated: request refused", metadata: [
                "listener": "\(request.listener.name)", "channel": "\(channel.name)", "reason": "\(error.reason)",
            ])
            answerLocally(request, .securityViolation)
            return .answered
        } catch {
            channel.release(reservation)
            logger.error("request cannot be carried to the channel", metadata: ["channel": "\(channel.name)", "error": "\(error)"])
            answerLocally(request, .systemError)
            return .answered
        }
        if let writer = durability?.writer {
            // Claimed first: a switch that stops before answering finds the claim when it starts again.
            request.transaction = writer.nextTransactionID()
            request.claimed = true
            writer.claim(ClaimEntry(request: request, channel: channel.name, reversible: needsCompensation(request, on: channel),
                                    connection: reservation.connection, bytes: bytes, message: outbound, dialect: channel.iso8583?.dialect))
            return .sent
        }
        // On the link's queue: sent now, written once at the end of this read; else handed over in batches.
        reservation.connection.sendFromAnyThread(bytes)
        return .sent
    }

    /// The request as the channel's host reads it, with the switch's STAN (ISO 8583).
    ///
    /// - Parameter message: Set to the ISO 8583 message the bytes encode (before any MAC), for the claim.
    private func outboundBytes(_ request: InboundRequest, _ payment: PaymentMessage, channel: Channel,
                               reservation: Channel.Reservation, message kept: inout ISO8583Message?) throws -> [UInt8] {
        switch request.message {
        case .iso8583:
            guard let target = channel.iso8583 else { break }
            var message = try outboundMessage(request, channel: channel, stan: reservation.stan)
            try pinTranslation?.translate(&message, listener: request.listener.index, channel: channel.name)
            kept = message
            if let mac = channel.mac { return try mac.signed(message, dialect: target.dialect) }
            // Same dialect: the bytes as received with only the switch's own fields rewritten.
            return try message.receivedFrame ?? message.encoded(as: target.dialect)
        case .iso20022(let bytes, _):
            guard channel.iso8583 == nil else { break }
            return try ISO20022Leg.outbound(bytes, payment, reference: reservation.key)
        }
        throw SwitchError("no translation from \(request.listener.configuration.wire.name) to \(channel.configuration.wire.name)")
    }

    /// An ISO 8583 request as the channel's ISO 8583 host reads it, with `stan` in DE 11: the
    /// original with only the switch's fields rewritten in the same dialect, else translated.
    func outboundMessage(_ request: InboundRequest, channel: Channel, stan: UInt32) throws -> ISO8583Message {
        guard case .iso8583(let original) = request.message, let target = channel.iso8583, let source = request.listener.iso8583 else {
            throw SwitchError("no translation from \(request.listener.configuration.wire.name) to \(channel.configuration.wire.name)")
        }
        if request.booking == nil, books(request, on: channel) { request.booking = booking(of: request, on: channel) }
        if source.isSameDialect(as: target) {
            var message = original
            guard message.overwriteDigits(11, with: UInt64(stan)) else {
                throw SwitchError("DE 11 (STAN) is not six digits the switch can rewrite")
            }
            if !message.contains(37) { message.set(37, assignedRRN(request, stan: stan)) }
            settle(&message, request.booking, channel: channel, dialect: target.dialect)
            return message
        }
        // Routed on what routing reads: the translation needs every field.
        var outbound = try source.mapping.canonical(from: original, dialect: source.dialect, results: results)
        // The originator's DE 15 is the business date the request is booked to: written below in the host's form.
        let booked = request.booking != nil && original.contains(15)
        if booked { outbound.unmapped.removeAll { $0.key == "15" } }
        outbound.stan = NetworkManagement.sixDigits(stan)
        if outbound.rrn == nil { outbound.rrn = assignedRRN(request, stan: stan) }
        let mayDrop = channel.configuration.mayDrop
        var message = try target.mapping.message(from: outbound, dialect: target.dialect, results: results, mayDrop: mayDrop)
        if booked, let booking = request.booking, let field = target.dialect[field: 15] {
            message.set(15, booking.date.settlementDateField(digits: field.maxLength))
        }
        settle(&message, request.booking, channel: channel, dialect: target.dialect)
        if !mayDrop.isEmpty {
            for field in target.mapping.uncarriedFields(of: outbound) { metrics.droppedField(channel: channel.name, field: field.rawValue) }
            if mayDrop.contains(.unmappedElements), outbound.source?.edition != target.mapping.version {
                for element in outbound.unmapped { metrics.droppedField(channel: channel.name, field: "DE \(element.key)") }
            }
        }
        return message
    }

    /// Whether a request needs booking here: its channel has a business day, or it states its own
    /// date in DE 15. Else the journal books it by the switch's business day from its own clock,
    /// and the request path does nothing for it.
    private func books(_ request: InboundRequest, on channel: Channel) -> Bool {
        if channel.configuration.businessDay != nil { return true }
        if case .iso8583(let original) = request.message { return original.contains(15) }
        return false
    }

    /// The business date a request is booked to on `channel`: the DE 15 it came with, else the
    /// channel's business day when it was read.
    func booking(of request: InboundRequest, on channel: Channel) -> Booking {
        guard case .iso8583(let original) = request.message else {
            return Booking(nil, at: request.startedUnixMilliseconds, businessDay: channel.configuration.businessDay)
        }
        return Booking(original, at: request.startedUnixMilliseconds, businessDay: channel.configuration.businessDay)
    }

    /// Writes the business date into DE 15 of a request for a host that is told it, unless the
    /// request already has one.
    private func settle(_ message: inout ISO8583Message, _ booking: Booking?, channel: Channel, dialect: Dialect) {
        guard let booking, channel.configuration.businessDay?.settlementDate == true, !message.contains(15),
              let field = dialect[field: 15] else { return }
        message.set(15, booking.date.settlementDateField(digits: field.maxLength))
    }

    /// The RRN the switch gives a request that has none: made once, then the same for its reversal.
    private func assignedRRN(_ request: InboundRequest, stan: UInt32) -> String {
        if let rrn = request.assignedRRN { return rrn }
        let rrn = RetrievalReference.make(stan: stan)
        request.assignedRRN = rrn
        return rrn
    }

    /// The key an ISO 20022 host's answer will carry back; nil for ISO 8583 (the STAN is assigned).
    private func outboundReference(_ request: InboundRequest, _ payment: PaymentMessage, _ channel: Channel) -> String? {
        guard channel.iso8583 == nil else { return nil }
        return ISO20022Leg.reference(for: payment)
    }

}

/// A fault inside the switch, with its reason (never a sensitive value).
struct SwitchError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Retrieval reference numbers the switch assigns when a request has none: `YDDDHH` + STAN
/// (the usual Julian-date form), unique per channel for a day.
enum RetrievalReference {
    static func make(stan: UInt32) -> String {
        var now = time(nil)
        var parts = tm()
        gmtime_r(&now, &parts)
        let day = String(parts.tm_yday + 1)
        return String(parts.tm_year % 10) + String(repeating: "0", count: 3 - day.count) + day
            + NetworkManagement.twoDigits(parts.tm_hour) + NetworkManagement.sixDigits(stan)
    }
}

/// Local time for time-of-day rules, read once a second at most.
enum RoutingClock {
    private static let cache = Mutex<(second: Int, context: RoutingContext)>((-1, RoutingContext()))

    static func context() -> RoutingContext {
        let now = time(nil)
        return cache.withLock { cache in
            if cache.second == now { return cache.context }
            var seconds = now
            var parts = tm()
            localtime_r(&seconds, &parts)
            cache = (now, RoutingContext(hour: Int(parts.tm_hour), minute: Int(parts.tm_min)))
            return cache.context
        }
    }
}

extension ResultCode {
    static let formatError = ResultCode(9100)!
    static let duplicateTransmission = ResultCode(9113)!
}
