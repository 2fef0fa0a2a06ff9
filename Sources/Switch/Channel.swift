import Dispatch
import ISO8583
import ISO20022
import Logging
import PaymentModel
import Routing
import Metrics
import Synchronization
import Transport

/// A host the switch forwards to: a link per address, the requests in flight and the STANs they
/// were sent with, the timeouts, and each link's sign-on and echo state.
///
/// Requests arrive from listener loops and answers from link loops, so the in-flight table and the
/// link states sit behind one lock, held only for table updates (never while encoding or sending).
final class Channel: @unchecked Sendable {
    let configuration: ChannelConfiguration
    let index: Int
    /// Where the timeout sweep runs.
    let loop: EventLoop
    let logger: Logger
    let metrics: SwitchMetrics
    /// The host's answer times (``SwitchMetrics/latencyTimer(channel:)``).
    let latency: Timer
    let results: ResultCodeTable
    /// The link's MAC, when it has one (ISO 8583).
    let mac: LinkMAC?
    /// The host's ISO 8583 dialect and mapping; nil for ISO 20022.
    let iso8583: ISO8583Side?
    private let state: Mutex<State>
    private let tls: TLSContext?
    /// The links, created once at start; their handlers reach back here.
    private var links: [OutboundLink] = []
    private var timers: [any DispatchSourceTimer] = []
    /// Called with each request the channel is done with (answered, timed out, link lost): the
    /// switch answers the originator. Set once before start.
    var onComplete: (@Sendable (InFlight, ChannelCompletion) -> Void)!
    /// Called with the host's answer to a store-and-forward message: the item's id and the answer's
    /// response code (DE 39, or ISO 20022 status/reason). Set once before start.
    var onForwardAnswer: (@Sendable (Int64, String) -> Void)?
    /// Called with a reconciliation request the host sent (0500, 0520, 1520) and the link it came
    /// on, to be answered from the journal. Set once before start; nil: such requests are refused.
    var onReconciliationRequest: (@Sendable (ISO8583Message, Connection) -> Void)?
    /// Called on a link when the business date turns, with the date that ended (``BusinessDayConfiguration/sendTotals``).
    var onCutover: (@Sendable (BusinessDate, Connection) -> Void)?
    /// Called with the host's answer to a reconciliation request the switch sent (0510, 0530, 1530).
    var onReconciliationAnswer: (@Sendable (ISO8583Message) -> Void)?
    /// Dynamic key exchange of the channel's PIN key (set before ``start()``, then only read).
    var keyExchange: KeyExchange?
    /// In a cluster: takes the next block of STANs for this channel from the cluster's database, so
    /// that no two nodes send a host the same STAN (its reversals' DE 90 would name either's
    /// request). Set before ``start()``; nil outside a cluster. May block: called on ``stanQueue``.
    var stanBlocks: (@Sendable () -> ClosedRange<Int>?)?
    private let stanQueue = DispatchQueue(label: "payswitch.channel.stan-blocks")

    struct State {
        var links: [LinkState]
        var inFlight: [MatchKey: InFlight] = [:]
        /// Keys with their deadlines in send order: with one timeout per channel, deadlines are in
        /// this order too, so the sweep only looks at the front. Answered entries are skipped.
        var deadlines: [(key: MatchKey, sequence: UInt64, deadline: UInt64)] = []
        var deadlineHead = 0
        var lastStan: UInt32 = 0
        /// In a cluster: the STAN block in use and the one taken ahead (``stanBlocks``), whether one
        /// is being taken, and not before when (uptime nanoseconds) after a failure.
        var usesStanBlocks = false
        var stanBlock: ClosedRange<UInt32>?
        var spareStanBlock: ClosedRange<UInt32>?
        var takingStanBlock = false
        var stanBlockRetry: UInt64 = 0
        var sequence: UInt64 = 0
        var stopped = false
        /// Store-and-forward messages sent and not yet acknowledged: STAN → the item's id (ISO 8583),
        /// or each reference its answer may name → the item's id (ISO 20022).
        var forwards: [UInt32: Int64] = [:]
        var forwardReferences: [String: Int64] = [:]
    }

    struct LinkState {
        var connection: Connection?
        var connecting = true
        var signedOn = false
        var missedEchoes = 0
        /// Network management requests sent on this link and not answered: STAN → what and when.
        var network: [UInt32: (request: NetworkRequest, sent: UInt64)] = [:]
        var lastEcho: UInt64 = 0
        /// The business date the host was last told of (or that was current when the link came up).
        var announcedDate: BusinessDate?

        /// Connected and, when the channel requires it, signed on.
        func takesTraffic(requireSignOn: Bool) -> Bool { connection != nil && (signedOn || !requireSignOn) }
    }

    init(configuration: ChannelConfiguration, index: Int, group: EventLoopGroup, logger: Logger, metrics: SwitchMetrics,
         results: ResultCodeTable, mac: LinkMAC? = nil) throws {
        self.configuration = configuration
        self.mac = mac
        self.index = index
        self.loop = group.nextLoop()
        self.logger = logger
        self.metrics = metrics
        self.latency = metrics.latencyTimer(channel: configuration.name)
        self.results = results
        self.iso8583 = ISO8583Side(configuration.wire)
        self.tls = try configuration.tls.map { try TLSContext($0, isClient: true) }
        self.state = Mutex(State(links: Array(repeating: LinkState(), count: configuration.addresses.count)))
        var options = ConnectionOptions(idleTimeout: nil, handshakeTimeout: .seconds(10))
        options.socketBufferSize = nil
        links = configuration.addresses.enumerated().map { linkIndex, address in
            OutboundLink(host: address.host, port: address.port, loop: group.nextLoop(), format: configuration.framing, tls: tls,
                         options: options, connectTimeout: configuration.connectTimeout,
                         backoff: Backoff(initial: .milliseconds(100), maximum: .seconds(5)), logger: logger) { [weak self] _ in
                // Weak: a link's last close can come after the switch that owned the channel is gone.
                Connection.Handlers(
                    onFrame: { [weak self] connection, frame in self?.hostFrame(frame, link: linkIndex, on: connection) },
                    onClose: { [weak self] connection, reason in self?.linkClosed(linkIndex, connection, reason) },
                    onActive: { [weak self] connection in
                        guard let self else { return connection.close() }
                        linkActive(linkIndex, connection)
                    })
            }
        }
    }

    var name: String { configuration.name }

    /// Opens every link and starts the timeout sweep and the link maintenance (sign-on, echo).
    func start() {
        if stanBlocks != nil, case .iso8583 = configuration.wire {
            // The first block before any link sends (a sign-on takes a STAN too); the next one is
            // taken ahead with the first STAN.
            state.withLock { $0.usesStanBlocks = true }
            takeStanBlockIfLow()
        }
        for link in links { link.start() }
        let sweep = DispatchSource.makeTimerSource(queue: loop.queue)
        sweep.schedule(deadline: .now() + .milliseconds(20), repeating: .milliseconds(20), leeway: .milliseconds(5))
        sweep.setEventHandler { [weak self] in self?.sweepTimeouts() }
        sweep.activate()
        timers.append(sweep)
        if case .iso8583 = configuration.wire {
            for (linkIndex, link) in links.enumerated() {
                let timer = DispatchSource.makeTimerSource(queue: link.loop.queue)
                timer.schedule(deadline: .now() + .milliseconds(200), repeating: .milliseconds(200), leeway: .milliseconds(50))
                timer.setEventHandler { [weak self] in self?.maintain(linkIndex) }
                timer.activate()
                timers.append(timer)
            }
        }
    }

    /// Signs off every signed-on link, then closes them; the sweep stops.
    func stop() {
        let open: [(Int, Connection)] = state.withLock { state in
            state.stopped = true
            return state.links.enumerated().compactMap { index, link in link.signedOn ? link.connection.map { (index, $0) } : nil }
        }
        if configuration.signOn {
            for (_, connection) in open { sendNetwork(.signOff, on: connection, link: nil) }
        }
        for timer in timers { timer.cancel() }
        timers.removeAll()
        for link in links { link.stop() }
    }

    // MARK: Sending

    /// A slot taken for one request: its key towards the host and the connection to send on.
    struct Reservation {
        let key: MatchKey
        let stan: UInt32
        let sequence: UInt64
        let connection: Connection
    }

    /// Why a channel cannot take a request now.
    enum Refusal: Error {
        case noLink, full, stopped, duplicateReference
        /// In a cluster: no STAN block from the database yet.
        case noStan
    }

    /// Takes a slot on the first usable link (connected and, when required, signed on) and assigns
    /// the STAN the request goes out with (ISO 8583) or records its reference (ISO 20022).
    func reserve(_ request: InboundRequest, reference: String? = nil, merchant: String?) -> Result<Reservation, Refusal> {
        let now = DispatchTime.now().uptimeNanoseconds
        let timeout = UInt64(configuration.requestTimeout.nanosecondsClamped)
        let requireSignOn = configuration.signOn
        defer { takeStanBlockIfLow() }
        return state.withLock { state -> Result<Reservation, Refusal> in
            guard !state.stopped else { return .failure(.stopped) }
            guard let linkIndex = state.links.firstIndex(where: { $0.takesTraffic(requireSignOn: requireSignOn) }),
                  let connection = state.links[linkIndex].connection else { return .failure(.noLink) }
            guard state.inFlight.count < configuration.maximumInFlight else { return .failure(.full) }
            let key: MatchKey
            var stan: UInt32 = 0
            if let reference {
                key = .reference(reference)
                if state.inFlight[key] != nil { return .failure(.duplicateReference) }
            } else {
                guard let next = Channel.nextStan(&state) else { return .failure(.noStan) }
                stan = next
                key = .stan(stan)
            }
            state.sequence &+= 1
            let entry = InFlight(sequence: state.sequence, request: request, link: linkIndex, deadline: now + timeout, sent: now, merchant: merchant)
            state.inFlight[key] = entry
            state.deadlines.append((key, entry.sequence, entry.deadline))
            return .success(Reservation(key: key, stan: stan, sequence: entry.sequence, connection: connection))
        }
    }

    /// A STAN for a message of the switch's own (such as a 0520) that no request in flight holds;
    /// nil in a cluster whose database has not given this node a block yet.
    func nextOwnStan() -> UInt32? {
        defer { takeStanBlockIfLow() }
        return state.withLock { Channel.nextStan(&$0) }
    }

    /// The next STAN not in flight on this channel, 000001 to 999999 then round again; in a
    /// cluster, the next of this node's block, then of the block taken ahead (nil when there is none).
    private static func nextStan(_ state: inout State) -> UInt32? {
        repeat {
            if state.usesStanBlocks {
                if state.stanBlock.map({ state.lastStan >= $0.upperBound || state.lastStan < $0.lowerBound - 1 }) ?? true {
                    guard let spare = state.spareStanBlock else { return nil }
                    state.stanBlock = spare
                    state.spareStanBlock = nil
                    state.lastStan = spare.lowerBound - 1
                }
                state.lastStan += 1
            } else {
                state.lastStan = state.lastStan % 999_999 + 1
            }
        } while state.inFlight[.stan(state.lastStan)] != nil || state.forwards[state.lastStan] != nil
            || state.links.contains { $0.network[state.lastStan] != nil }
        return state.lastStan
    }

    /// STANs taken per block from the cluster's database.
    static let stanBlockSize = 1_000

    /// In a cluster: takes a block from the cluster's database, off the caller's queue, whenever
    /// none is taken ahead, so that a burst never waits for the database (a request finding no
    /// STAN is refused: a burst of 500 at a quarter left found the gap). The first block becomes
    /// the one in use, the next the spare. Outside a cluster it touches no lock.
    private func takeStanBlockIfLow() {
        guard let stanBlocks else { return }
        let now = DispatchTime.now().uptimeNanoseconds
        let take = state.withLock { state -> Bool in
            guard state.usesStanBlocks, state.spareStanBlock == nil, !state.takingStanBlock, now >= state.stanBlockRetry else { return false }
            state.takingStanBlock = true
            return true
        }
        guard take else { return }
        stanQueue.async { [self] in
            let block = stanBlocks()
            state.withLock { state in
                state.takingStanBlock = false
                guard let block, block.lowerBound >= 1 else {
                    // The database is down: try again in half a second, not on every request.
                    state.stanBlockRetry = DispatchTime.now().uptimeNanoseconds + 500_000_000
                    return
                }
                let taken = UInt32(block.lowerBound)...UInt32(block.upperBound)
                if state.stanBlock == nil { state.stanBlock = taken; state.lastStan = taken.lowerBound - 1 } else { state.spareStanBlock = taken }
            }
        }
    }

    /// Sends a store-and-forward message on the first usable link with a STAN of its own (written
    /// into DE 11 by `prepare`); nil when no link takes traffic now. The host's answer comes back
    /// through ``onForwardAnswer``.
    func sendForward(id: Int64, prepare: (UInt32) throws -> [UInt8]) throws -> UInt32? {
        let requireSignOn = configuration.signOn
        let taken: (UInt32, Connection)? = state.withLock { state in
            guard !state.stopped,
                  let link = state.links.first(where: { $0.takesTraffic(requireSignOn: requireSignOn) }),
                  let connection = link.connection else { return nil }
            guard let stan = Channel.nextStan(&state) else { return nil }
            state.forwards[stan] = id
            return (stan, connection)
        }
        takeStanBlockIfLow()
        guard let (stan, connection) = taken else { return nil }
        do {
            let frame = try prepare(stan)
            if let mac, let dialect = iso8583?.dialect {
                connection.sendFromAnyThread(try mac.signed(frame: frame, dialect: dialect))
            } else {
                connection.sendFromAnyThread(frame)
            }
        } catch {
            forgetForward(stan: stan)
            throw error
        }
        return stan
    }

    /// Sends a store-and-forward ISO 20022 document on the first usable link; its answer is matched
    /// by any of `references`. False when no link takes traffic now.
    func sendForward(id: Int64, references: [String], payload: [UInt8]) -> Bool {
        let requireSignOn = configuration.signOn
        let connection: Connection? = state.withLock { state in
            guard !state.stopped,
                  let connection = state.links.first(where: { $0.takesTraffic(requireSignOn: requireSignOn) })?.connection else { return nil }
            for reference in references { state.forwardReferences[reference] = id }
            return connection
        }
        connection?.sendFromAnyThread(payload)
        return connection != nil
    }

    /// Stops waiting for the answer to a store-and-forward message (it timed out; it will be repeated).
    func forgetForward(stan: UInt32?, references: [String] = []) {
        state.withLock { state in
            if let stan { state.forwards[stan] = nil }
            for reference in references { state.forwardReferences[reference] = nil }
        }
    }

    /// Starts assigning STANs past `stan` (the last one journalled before a restart) and past every
    /// request that may have been in flight after it.
    func continueStans(after stan: UInt32) {
        let gap = UInt32(clamping: configuration.maximumInFlight)
        state.withLock { state in
            // In a cluster the blocks say where STANs go on.
            guard !state.usesStanBlocks else { return }
            state.lastStan = UInt32((UInt64(stan) + UInt64(gap)) % 999_999)
        }
    }

    /// Gives a slot back unsent (the request could not be encoded for this host).
    func release(_ reservation: Reservation) {
        state.withLock { state in
            if state.inFlight[reservation.key]?.sequence == reservation.sequence { state.inFlight[reservation.key] = nil }
        }
    }

    /// Completes every request in flight with `code` (shutdown past its grace period).
    func declineAll(with code: ResultCode) {
        let left: [InFlight] = state.withLock { state in
            let left = Array(state.inFlight.values)
            state.inFlight.removeAll()
            return left
        }
        for entry in left { onComplete(entry, .failed(code, .timeout)) }
    }

    /// Requests in flight now.
    var inFlightCount: Int { state.withLock { $0.inFlight.count } }

    // MARK: Answers

    private func hostFrame(_ frame: Frame, link: Int, on connection: Connection) {
        if let side = iso8583 {
            hostISO8583(Array(frame.payload), dialect: side.dialect, mapping: side.mapping, link: link, on: connection)
        } else {
            hostISO20022(Array(frame.payload), link: link)
        }
    }

    private func hostISO8583(_ payload: [UInt8], dialect: Dialect, mapping: ISO8583Mapping, link: Int, on connection: Connection) {
        let answer: ISO8583Message
        do {
            answer = try ISO8583Message(decoding: payload, dialect: dialect)
        } catch {
            metrics.hostUndecodable(channel: name)
            logger.error("undecodable answer from host", metadata: ["channel": "\(name)", "error": "\(error)"])
            // A STAN that still reads lets the request it answers be declined now rather than time out.
            if let head = ISO8583Message.readableHead(of: payload, dialect: dialect)?.message, let stan = head.integer(11),
               let entry = take(.stan(UInt32(clamping: stan))) {
                onComplete(entry, .failed(.systemError, .systemError))
            }
            return
        }
        if answer.mti.messageClass == 8 {
            return networkFrame(answer, dialect: dialect, mapping: mapping, link: link, on: connection)
        }
        if let mac, !mac.verifies(answer, frame: payload) {
            // Not acted on: the request it answers is declined (and reversed, with storage); an
            // acknowledgement of a stored reversal or advice does not count, and it is sent again.
            metrics.securityViolation(channel: name, kind: "mac")
            logger.warning("answer with a wrong or missing MAC refused", metadata: ["channel": "\(name)", "mti": "\(answer.mti)"])
            if answer.mti.expectsResponse { return }
            if let stan = answer.integer(11), let entry = take(.stan(UInt32(clamping: stan))) {
                onComplete(entry, .failed(.securityViolation, .systemError))
            }
            return
        }
        if answer.mti.messageClass == 5 && answer.mti.expectsResponse {
            guard let onReconciliationRequest else {
                logger.warning("a reconciliation request from the host, and no journal to answer it from", metadata: ["channel": "\(name)"])
                return
            }
            return onReconciliationRequest(answer, connection)
        }
        if answer.mti.messageClass == 5 && !answer.mti.expectsResponse {
            return onReconciliationAnswer?(answer) ?? ()
        }
        if !answer.mti.expectsResponse, let stan = answer.integer(11),
           let id = state.withLock({ $0.forwards.removeValue(forKey: UInt32(clamping: stan)) }) {
            return onForwardAnswer?(id, answer.string(39) ?? "-") ?? ()
        }
        guard !answer.mti.expectsResponse, let stan = answer.integer(11), let entry = take(.stan(UInt32(clamping: stan))) else {
            metrics.unmatchedAnswer(channel: name)
            logger.warning("unmatched answer from host (late, unknown or not an answer)", metadata: [
                "channel": "\(name)", "mti": "\(answer.mti)", "stan": "\(answer.string(11) ?? "-")",
            ])
            return
        }
        onComplete(entry, .iso8583(answer))
    }

    private func hostISO20022(_ payload: [UInt8], link: Int) {
        let answer: PaymentMessage
        do {
            answer = try ISO20022Support.codec.decode(payload)
        } catch {
            metrics.hostUndecodable(channel: name)
            logger.error("undecodable answer from host", metadata: ["channel": "\(name)", "error": "\(error)"])
            return
        }
        // Each candidate taken at most once (`take` removes what it finds).
        var matched: InFlight? = nil
        let references = ISO20022Support.originalReferences(of: answer)
        for reference in references where matched == nil { matched = take(.reference(reference)) }
        if matched == nil, let id = takeForward(references) {
            return onForwardAnswer?(id, ISO20022Support.statusText(of: answer)) ?? ()
        }
        guard let entry = matched else {
            metrics.unmatchedAnswer(channel: name)
            logger.warning("unmatched answer from host (late, unknown or not an answer)", metadata: [
                "channel": "\(name)", "message": "\(answer.source?.version ?? "?")",
            ])
            return
        }
        onComplete(entry, .iso20022(payload, answer))
    }

    /// The store-and-forward item one of `references` names, with all its references forgotten.
    private func takeForward(_ references: [String]) -> Int64? {
        state.withLock { state in
            var found: Int64? = nil
            for reference in references where found == nil { found = state.forwardReferences[reference] }
            guard let id = found else { return nil }
            state.forwardReferences = state.forwardReferences.filter { $0.value != id }
            return id
        }
    }

    /// Removes and returns the request in flight under `key`, if any.
    private func take(_ key: MatchKey) -> InFlight? {
        state.withLock { state in state.inFlight.removeValue(forKey: key) }
    }

    private func sweepTimeouts() {
        dispatchPrecondition(condition: .onQueue(loop.queue))
        let now = DispatchTime.now().uptimeNanoseconds
        let expired: [InFlight] = state.withLock { state in
            var expired: [InFlight] = []
            while state.deadlineHead < state.deadlines.count {
                let front = state.deadlines[state.deadlineHead]
                guard front.deadline <= now else { break }
                state.deadlineHead += 1
                if let entry = state.inFlight[front.key], entry.sequence == front.sequence {
                    state.inFlight[front.key] = nil
                    expired.append(entry)
                }
            }
            // Drop the consumed front once it is most of the array: amortised O(1) per request.
            if state.deadlineHead > 1024 && state.deadlineHead * 2 > state.deadlines.count {
                state.deadlines.removeFirst(state.deadlineHead)
                state.deadlineHead = 0
            }
            return expired
        }
        for entry in expired { onComplete(entry, .failed(.issuerTimeout, .timeout)) }
    }

    // MARK: Links

    private func linkActive(_ link: Int, _ connection: Connection) {
        let signOn = configuration.signOn
        state.withLock { state in
            state.links[link] = LinkState(connection: connection, connecting: false, signedOn: !signOn)
        }
        metrics.linkState(channel: name, address: "\(configuration.addresses[link])", up: !signOn)
        if signOn { sendNetwork(.signOn, on: connection, link: link) }
    }

    private func linkClosed(_ link: Int, _ connection: Connection, _ reason: CloseReason) {
        let lost: [InFlight] = state.withLock { state in
            guard state.links[link].connection === connection || state.links[link].connection == nil else { return [] }
            state.links[link] = LinkState()
            let lost = state.inFlight.filter { $0.value.link == link }
            for key in lost.keys { state.inFlight[key] = nil }
            return Array(lost.values)
        }
        metrics.linkState(channel: name, address: "\(configuration.addresses[link])", up: false)
        if !lost.isEmpty {
            logger.warning("link lost with requests in flight", metadata: ["channel": "\(name)", "count": "\(lost.count)", "reason": "\(reason)"])
        }
        for entry in lost { onComplete(entry, .failed(.issuerUnavailable, .connectionFailure)) }
    }

    /// Once per tick on the link's queue: sign on when not yet, echo when due, and give up on a
    /// link whose echoes go unanswered.
    private func maintain(_ link: Int) {
        let now = DispatchTime.now().uptimeNanoseconds
        let timeout = UInt64(configuration.requestTimeout.nanosecondsClamped)
        let echoEvery = configuration.echoInterval.map { UInt64($0.nanosecondsClamped) }
        enum Step {
            case none, signOn(Connection), echo(Connection), keyChange(Connection), close(Connection)
            /// The date turned: the new one and the one that ended.
            case cutover(Connection, BusinessDate, BusinessDate)
        }
        let watchesDate = cutoverAnnounced || configuration.businessDay?.sendTotals == true
        let businessDate = watchesDate ? configuration.businessDay.map { $0.day.date(atUnixMilliseconds: Durability.now()) } : nil
        let step: Step = state.withLock { state in
            guard !state.stopped, let connection = state.links[link].connection else { return .none }
            var linkState = state.links[link]
            defer { state.links[link] = linkState }
            // Network requests unanswered for a request timeout are given up (an echo counts as missed).
            for (stan, pending) in linkState.network where now - pending.sent > timeout {
                linkState.network[stan] = nil
                if pending.request == .echo { linkState.missedEchoes += 1 }
            }
            if linkState.missedEchoes >= configuration.maximumMissedEchoes { return .close(connection) }
            if configuration.signOn && !linkState.signedOn {
                return linkState.network.values.contains { $0.request == .signOn } ? .none : .signOn(connection)
            }
            if let echoEvery, now - linkState.lastEcho >= echoEvery, !linkState.network.values.contains(where: { $0.request == .echo }) {
                linkState.lastEcho = now
                return .echo(connection)
            }
            if let keyExchange, keyExchange.claimScheduledChange(now: now) { return .keyChange(connection) }
            if let businessDate, linkState.takesTraffic(requireSignOn: configuration.signOn) {
                // The date the link came up in needs no announcing; each one after it does, once.
                defer { linkState.announcedDate = businessDate }
                if let announced = linkState.announcedDate, announced < businessDate { return .cutover(connection, businessDate, announced) }
            }
            return .none
        }
        switch step {
        case .none: break
        case .signOn(let connection): sendNetwork(.signOn, on: connection, link: link)
        case .echo(let connection): sendNetwork(.echo, on: connection, link: link)
        case .keyChange(let connection): sendNetwork(.keyChange, on: connection, link: link)
        case .cutover(let connection, let date, let ended):
            if cutoverAnnounced {
                logger.info("cutover: business date announced", metadata: ["channel": "\(name)", "date": "\(date)"])
                sendNetwork(.cutover, on: connection, link: link, date: date)
            }
            if configuration.businessDay?.sendTotals == true { onCutover?(ended, connection) }
        case .close(let connection):
            logger.warning("echo tests unanswered: link taken out and reopened", metadata: [
                "channel": "\(name)", "address": "\(configuration.addresses[link])",
            ])
            state.withLock { $0.links[link].signedOn = false }
            metrics.linkState(channel: name, address: "\(configuration.addresses[link])", up: false)
            connection.execute { $0.close() }
        }
    }

    /// Sends a sign-on, echo or sign-off on a link (on its queue or from any thread).
    private func sendNetwork(_ request: NetworkRequest, on connection: Connection, link: Int?, date: BusinessDate? = nil) {
        guard case .iso8583(let dialect, let mapping) = configuration.wire else { return }
        let taken: UInt32? = state.withLock { state in
            guard let stan = Channel.nextStan(&state) else { return nil }
            if let link { state.links[link].network[stan] = (request, DispatchTime.now().uptimeNanoseconds) }
            return stan
        }
        takeStanBlockIfLow()
        // In a cluster with no STAN block yet: the next maintenance round sends it.
        guard let stan = taken else { return }
        do {
            var extra: (field: Int, value: String)? = nil
            if request == .keyChange {
                guard let keyExchange else { return }
                extra = (keyExchange.field, try keyExchange.offer(stan: stan))
            }
            if let date, let field = dialect[field: 15] { extra = (15, date.settlementDateField(digits: field.maxLength)) }
            let message = NetworkManagement.request(request, stan: stan, version: mapping.version, carrying: extra)
            let frame = try message.encoded(as: dialect)
            connection.execute { connection in frame.withUnsafeBytes { try? connection.send(payload: $0) } }
        } catch {
            logger.error("cannot make a network management request", metadata: ["channel": "\(name)", "error": "\(error)"])
        }
    }

    private func networkFrame(_ message: ISO8583Message, dialect: Dialect, mapping: ISO8583Mapping, link: Int, on connection: Connection) {
        if message.mti.expectsResponse {
            // The host's own echo, sign-on or key change: answered here, never routed.
            var answer = NetworkManagement.answer(to: message, mapping: mapping, results: results)
            let code = mapping.version == 0 ? message.string(70) : nil
            if let keyExchange, code == KeyExchange.newKeyCode {
                do {
                    try keyExchange.received(message)
                    logger.info("key changed by the host", metadata: ["channel": "\(name)"])
                } catch {
                    metrics.securityViolation(channel: name, kind: "key-exchange")
                    logger.warning("key change refused", metadata: ["channel": "\(name)", "error": "\(error)"])
                    answer.set(39, mapping.responseCode(for: .securityViolation, results: results) ?? "63")
                }
            }
            if let frame = try? answer.encoded(as: dialect) { frame.withUnsafeBytes { try? connection.send(payload: $0) } }
            if keyExchange != nil, code == KeyExchange.requestKeyCode { sendNetwork(.keyChange, on: connection, link: link) }
            return
        }
        guard let stan = message.integer(11) else { return }
        let accepted = NetworkManagement.isAccepted(message, mapping: mapping, results: results)
        let outcome: (NetworkRequest, Bool)? = state.withLock { state in
            guard state.links[link].connection === connection,
                  let pending = state.links[link].network.removeValue(forKey: UInt32(clamping: stan)) else { return nil }
            switch pending.request {
            case .signOn: state.links[link].signedOn = accepted
            case .echo: state.links[link].missedEchoes = 0
            case .signOff: state.links[link].signedOn = false
            case .keyChange, .cutover: break
            }
            return (pending.request, state.links[link].signedOn)
        }
        guard let (request, signedOn) = outcome else { return }
        if request == .keyChange, let keyExchange {
            do {
                try keyExchange.answered(stan: UInt32(clamping: stan), accepted: accepted)
                logger.info(accepted ? "key changed" : "key change refused by host", metadata: ["channel": "\(name)"])
            } catch {
                logger.error("the new key cannot be kept: the old one stays in use", metadata: ["channel": "\(name)", "error": "\(error)"])
            }
        }
        if request == .signOn {
            metrics.linkState(channel: name, address: "\(configuration.addresses[link])", up: signedOn)
            if signedOn {
                logger.info("signed on", metadata: ["channel": "\(name)", "address": "\(configuration.addresses[link])"])
            } else {
                logger.warning("sign-on refused by host", metadata: ["channel": "\(name)", "code": "\(message.string(39) ?? "-")"])
            }
        }
    }

    // MARK: Reports

    /// Whether the channel's hosts are sent 0800 DE 70 = 201 at cutover (ISO 8583:1987 with a business day).
    var cutoverAnnounced: Bool {
        configuration.businessDay?.cutoverMessage == true && iso8583?.mapping.version == 0
    }

    /// Whether some link takes traffic now.
    var isUsable: Bool {
        let requireSignOn = configuration.signOn
        return state.withLock { state in state.links.contains { $0.takesTraffic(requireSignOn: requireSignOn) } }
    }

    func linkReports() -> [LinkReport] {
        let requireSignOn = configuration.signOn
        return state.withLock { state in
            state.links.enumerated().map { index, link in
                let status = link.connection == nil ? (link.connecting ? "connecting" : "down")
                    : (requireSignOn && link.signedOn ? "signed-on" : "connected")
                return LinkReport(address: "\(configuration.addresses[index])", state: status, missedEchoes: link.missedEchoes)
            }
        }
    }
}

/// How a channel finished with a request.
enum ChannelCompletion: @unchecked Sendable {
    /// The host's ISO 8583 answer.
    case iso8583(ISO8583Message)
    /// The host's ISO 20022 answer: its bytes and canonical form.
    case iso20022([UInt8], PaymentMessage)
    /// No answer: the code to decline with and the outcome for channel health.
    case failed(ResultCode, ChannelOutcome)
}

extension Duration {
    /// Nanoseconds, clamped to Int64 (durations read from configuration are bounded well below).
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        return overflow ? (seconds < 0 ? .min : .max) : scaled.addingReportingOverflow(attoseconds / 1_000_000_000).partialValue
    }
}
