import PaymentModel
import Testing
@testable import Routing

/// Breakers and windows: only technical failures count, and a recovered channel comes back.
struct ChannelHealthTests {
    let start = ContinuousClock.now

    func policy() -> HealthPolicy {
        var policy = HealthPolicy()
        policy.window = .seconds(10)
        policy.buckets = 10
        policy.failureRateThreshold = 0.5
        policy.minimumFailures = 4
        policy.openDuration = .seconds(5)
        policy.halfOpenProbes = 2
        return policy
    }

    func at(_ seconds: Double) -> ContinuousClock.Instant { start.advanced(by: .milliseconds(Int(seconds * 1000))) }

    @Test func businessDeclinesNeverOpenABreaker() {
        let health = ChannelHealth(policy: policy(), origin: start)
        for index in 0..<200 {
            health.record(ChannelOutcome(result: .insufficientFunds), channel: "visa", at: at(Double(index) * 0.01))
            health.record(.businessDecline, channel: "visa", merchant: "M1", at: at(Double(index) * 0.01))
        }
        #expect(ChannelOutcome(result: .doNotHonour) == .businessDecline)
        #expect(health.state(channel: "visa", at: at(2)) == .closed)
        #expect(health.admit(channel: "visa", merchant: "M1", at: at(2)) == .allowed)
    }

    @Test(arguments: [ChannelOutcome.timeout, .connectionFailure, ChannelOutcome(result: .systemError)])
    func technicalFailuresOpenTheBreaker(outcome: ChannelOutcome) {
        let health = ChannelHealth(policy: policy(), origin: start)
        for index in 0..<4 { health.record(outcome, channel: "visa", at: at(Double(index) * 0.1)) }
        // Four failures are not more than the minimum of four: still closed.
        #expect(health.state(channel: "visa", at: at(0.5)) == .closed)
        health.record(outcome, channel: "visa", at: at(0.5))
        #expect(health.state(channel: "visa", at: at(0.6)) == .open)
        #expect(health.admit(channel: "visa", at: at(0.6)) == .refused(.channelBreaker(.open)))
    }

    @Test func rateBelowThresholdKeepsItClosed() {
        let health = ChannelHealth(policy: policy(), origin: start)
        for index in 0..<10 {
            health.record(.success, channel: "visa", at: at(Double(index) * 0.1))
            health.record(.businessDecline, channel: "visa", at: at(Double(index) * 0.1))
            if index < 9 { health.record(.timeout, channel: "visa", at: at(Double(index) * 0.1)) }
        }
        // 9 failures of 29 outcomes: over the count, under 50 %.
        #expect(health.state(channel: "visa", at: at(1)) == .closed)
    }

    @Test func failuresOutsideTheWindowAreForgotten() {
        let health = ChannelHealth(policy: policy(), origin: start)
        for index in 0..<4 { health.record(.timeout, channel: "visa", at: at(Double(index))) }
        // The first four slid out of the 10 s window before the fifth.
        health.record(.timeout, channel: "visa", at: at(14.5))
        #expect(health.state(channel: "visa", at: at(14.6)) == .closed)
    }

    @Test func halfOpenLetsItsProbeQuotaThroughAndRecovers() {
        let health = ChannelHealth(policy: policy(), origin: start)
        for index in 0..<5 { health.record(.timeout, channel: "visa", at: at(Double(index) * 0.1)) }
        #expect(health.state(channel: "visa", at: at(1)) == .open)
        #expect(health.state(channel: "visa", at: at(5.6)) == .halfOpen)
        #expect(health.admit(channel: "visa", at: at(5.6)) == .probe)
        #expect(health.admit(channel: "visa", at: at(5.7)) == .probe)
        #expect(health.admit(channel: "visa", at: at(5.8)) == .refused(.channelBreaker(.halfOpen)))
        health.record(.success, channel: "visa", at: at(5.9))
        health.record(.businessDecline, channel: "visa", at: at(6.0))
        #expect(health.state(channel: "visa", at: at(6.1)) == .closed)
        #expect(health.admit(channel: "visa", at: at(6.1)) == .allowed)
    }

    @Test func aFailedProbeOpensItAgain() {
        let health = ChannelHealth(policy: policy(), origin: start)
        for index in 0..<5 { health.record(.connectionFailure, channel: "visa", at: at(Double(index) * 0.1)) }
        #expect(health.admit(channel: "visa", at: at(5.6)) == .probe)
        health.record(.timeout, channel: "visa", at: at(5.7))
        #expect(health.state(channel: "visa", at: at(5.8)) == .open)
        #expect(health.state(channel: "visa", at: at(10.8)) == .halfOpen)
    }

    @Test func merchantBreakerDropsTheChannelForThatMerchantOnly() {
        var policy = policy()
        policy.minimumFailures = 2
        policy.failureRateThreshold = 0.2
        let health = ChannelHealth(policy: policy, origin: start)
        for index in 0..<20 { health.record(.success, channel: "visa", merchant: "M2", at: at(Double(index) * 0.01)) }
        // 3 failures of 23 on the channel (13 %), 3 of 3 for M1.
        for index in 0..<3 { health.record(.systemError, channel: "visa", merchant: "M1", at: at(0.3 + Double(index) * 0.1)) }
        #expect(health.state(channel: "visa", at: at(1)) == .closed)
        #expect(health.state(channel: "visa", merchant: "M1", at: at(1)) == .open)
        #expect(health.admit(channel: "visa", merchant: "M1", at: at(1)) == .refused(.merchantBreaker(.open)))
        #expect(health.admit(channel: "visa", merchant: "M2", at: at(1)) == .allowed)
    }

    static let rules = """
        channels: [visa-a, visa-b, backup]
        rules:
          - id: visa
            when: {bin: "4"}
            then: {route: [visa-a, visa-b, backup]}
          - id: transfers
            when: {kind: creditTransfer}
            then: {split: {visa-a: 50, visa-b: 50}}
        default: {decline: "1014"}
        """

    func card() -> PaymentMessage {
        var message = PaymentMessage(kind: .financial, function: .request)
        message.pan = PAN("4761739001010119")
        message.merchant = Merchant(id: "M1")
        return message
    }

    @Test func routerDropsOpenChannelsAndSaysWhy() throws {
        let health = ChannelHealth(policy: policy(), origin: start)
        let router = Router(try #require(RoutingSnapshot.compile(yaml: Self.rules, file: "r.yaml").snapshot), health: health)
        for index in 0..<5 { health.record(.timeout, channel: "visa-a", at: at(Double(index) * 0.1)) }
        let result = router.route(card(), RoutingContext(), at: at(1))
        #expect(result.ruleID == "visa")
        #expect(result.candidates == ["visa-b", "backup"])
        #expect(result.dropped == [RouteResult.Dropped(channel: "visa-a", reason: .channelBreaker(.open))])
        #expect(result.decline == nil)
        for channel in ["visa-b", "backup"] {
            for index in 0..<5 { health.record(.timeout, channel: channel, at: at(Double(index) * 0.1)) }
        }
        let exhausted = router.route(card(), RoutingContext(), at: at(1))
        #expect(exhausted.candidates.isEmpty)
        #expect(exhausted.decline == .issuerUnavailable)
    }

    @Test func successRateOrderingWithExploration() throws {
        var policy = policy()
        policy.orderBySuccessRate = true
        policy.minimumCallsForRate = 10
        policy.minimumFailures = 1000  // no breaker here: ordering only
        policy.explorationShare = 0.1
        let health = ChannelHealth(policy: policy, origin: start)
        let router = Router(try #require(RoutingSnapshot.compile(yaml: Self.rules, file: "r.yaml").snapshot), health: health)
        for index in 0..<20 {
            health.record(index < 10 ? .timeout : .success, channel: "visa-a", at: at(Double(index) * 0.01))
            health.record(.success, channel: "visa-b", at: at(Double(index) * 0.01))
        }
        var reordered = 0, explored = 0
        for stan in 0..<1000 {
            var message = card()
            message.stan = String(100_000 + stan)
            let candidates = router.route(message, RoutingContext(), at: at(1)).candidates
            if candidates == ["visa-b", "backup", "visa-a"] { reordered += 1 }
            if candidates == ["visa-a", "visa-b", "backup"] { explored += 1 }
        }
        #expect(reordered + explored == 1000)
        #expect((50...150).contains(explored), "explored \(explored)")
    }

    @Test func hotSwapKeepsTheOldSnapshotWhenTheNewFileFails() throws {
        let router = Router(try #require(RoutingSnapshot.compile(yaml: Self.rules, file: "r.yaml").snapshot))
        let version = router.snapshot.version
        let broken = router.load(yaml: Self.rules.replacingOccurrences(of: "[visa-a, visa-b, backup]", with: "[visa-c]"), file: "r2.yaml")
        #expect(broken.errors.map(\.kind) == [.unknownChannel])
        #expect(router.snapshot.version == version)
        #expect(router.route(card(), RoutingContext()).ruleID == "visa")
        let fixed = router.load(yaml: Self.rules.replacingOccurrences(of: "bin: \"4\"", with: "bin: \"5\""), file: "r3.yaml")
        #expect(fixed.errors.isEmpty)
        #expect(router.snapshot.version != version)
        let result = router.route(card(), RoutingContext())
        #expect(result.ruleID == "default")
        #expect(result.decline == ResultCode(1014))
        #expect(result.version == router.snapshot.version)
    }
}

extension String {
    func replacingOccurrences(of target: String, with replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}

/// Merchant ids come from messages: breakers per channel × merchant stay bounded.
struct ChannelHealthBoundTests {
    @Test func aMillionMerchantIdsKeepTheTableBounded() {
        var policy = HealthPolicy()
        policy.maximumMerchantBreakers = 1_000
        policy.minimumFailures = 2
        let origin = ContinuousClock.now
        let health = ChannelHealth(policy: policy, origin: origin)
        // A merchant whose breaker opens: failures are what the table exists for.
        for _ in 0..<5 { health.record(.timeout, channel: "visa", merchant: "FAILING", at: origin) }
        #expect(health.state(channel: "visa", merchant: "FAILING", at: origin) == .open)
        for index in 0..<1_000_000 {
            health.record(.success, channel: "visa", merchant: "M\(index)", at: origin)
            if index % 100_000 == 0 { #expect(health.merchantBreakerCount <= policy.maximumMerchantBreakers) }
        }
        #expect(health.merchantBreakerCount <= policy.maximumMerchantBreakers)
        // The open breaker survived the flood of healthy ones.
        #expect(health.state(channel: "visa", merchant: "FAILING", at: origin) == .open)
    }
}
