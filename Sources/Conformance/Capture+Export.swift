import ISO8583

extension Capture {
    /// The capture's sessions as TCP conversations for a pcapng file: sends as written, and each
    /// expected answer rebuilt from what the expectation fixes (its exact bytes, or its MTI and
    /// exact field values), card data replaced in both as import replaces it. Times are the
    /// recorded ones, from `start` (nanoseconds since 1970).
    ///
    /// - Returns: The conversations, and a note for each answer that cannot be rebuilt (an ISO
    ///   20022 expectation, or one with nothing exact) and each field left out for being a wildcard.
    public func conversations(serverPort: UInt16, start: Int64) -> (conversations: [ExportedConversation], notes: [String]) {
        var conversations: [ExportedConversation] = []
        var notes: [String] = []
        var sessionStart = start
        for (number, session) in sessions.enumerated() {
            let dialect: Dialect? = if case .iso8583(let name) = session.wire { try? Dialect.shipped(name) } else { nil }
            var chunks: [TCPChunk] = []
            var time = sessionStart
            for step in session.steps {
                // Steps without a recorded time follow the previous one by a millisecond.
                time = step.at.map { sessionStart + $0.wholeNanoseconds } ?? time + 1_000_000
                switch step.action {
                case .send(let content):
                    guard let (payload, _) = try? ReplayRunner.encode(content, dialect: dialect) else {
                        notes.append("\(step.location): the frame cannot be built; left out")
                        continue
                    }
                    var bytes = payload
                    if case .raw = content {
                        _ = CardDataScrubber.scrubDigitRuns(&bytes)
                    } else {
                        bytes = session.framing.framed(CardDataScrubber.scrubbed(payload, dialect: dialect), header: nil)
                    }
                    chunks.append(TCPChunk(direction: .fromClient, timestampNanoseconds: time, bytes: bytes))
                case .expect(let expectation):
                    guard let payload = expectation.exampleAnswer(dialect: dialect, location: step.location, notes: &notes) else { continue }
                    chunks.append(TCPChunk(direction: .fromServer, timestampNanoseconds: time,
                                           bytes: session.framing.framed(CardDataScrubber.scrubbed(payload, dialect: dialect), header: nil)))
                case .expectClose, .expectSilence:
                    continue
                }
            }
            // Sessions replay one after another: so do their conversations.
            sessionStart = time + 1_000_000
            conversations.append(ExportedConversation(clientPort: UInt16(40_000 + number % 20_000), serverPort: serverPort, chunks: chunks))
        }
        return (conversations, notes)
    }
}

extension AnswerExpectation {
    /// An answer that meets the exact parts of this expectation, when they make a whole frame.
    func exampleAnswer(dialect: Dialect?, location: String, notes: inout [String]) -> [UInt8]? {
        switch form {
        case .bytes(let bytes):
            return bytes
        case let .iso8583(mti, fields, _):
            guard let dialect, case .equals(let mtiText) = mti, let mtiValue = MTI(mtiText) else {
                notes.append("\(location): the expected answer has no exact MTI; left out")
                return nil
            }
            var texts: [(Int, String)] = []
            for (key, expectation) in fields {
                guard let fieldKey = FieldKey(key), fieldKey.part == nil else { continue }
                if case .equals(let value) = expectation { texts.append((fieldKey.field, value)) } else if expectation != .absent {
                    notes.append("\(location): DE \(key) is not exact in the expectation; left out of the answer")
                }
            }
            guard let message = try? ISO8583Message(mti: mtiValue, texts: texts.sorted { $0.0 < $1.0 }, dialect: dialect),
                  let payload = try? message.encoded(as: dialect) else {
                notes.append("\(location): the expected answer's exact values do not encode as \(dialect.name); left out")
                return nil
            }
            return payload
        case .iso20022:
            notes.append("\(location): an ISO 20022 answer is checked by path and cannot be rebuilt; left out (replay --pcap writes real answers)")
            return nil
        }
    }
}
