import ISO8583
import Testing

/// Answering a request without copies: decoding from a transient buffer, the request turned into
/// its answer, and encoding into a caller's reused buffer.
struct AnswerEncodingTests {
    @Test(arguments: Dialect.shippedNames)
    func encodingIntoABufferWritesTheSameBytesAsEncoded(dialectName: String) throws {
        let dialect = try Dialect.shipped(dialectName)
        var generator = MessageGenerator(dialect: dialect, seed: 0x15)
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 * 1024, alignment: 1)
        defer { buffer.deallocate() }
        for _ in 0..<300 {
            let (message, _) = generator.message()
            let expected = try message.encoded(as: dialect)
            let count = try message.encode(as: dialect, into: buffer)
            #expect(Array(buffer[0..<count]) == expected)
        }
    }

    @Test func aBufferTooSmallIsAnErrorNamingBothSizesAndNothingIsWritten() throws {
        let dialect = try Dialect.shipped("iso87ascii")
        var message = ISO8583Message(mti: MTI("0800")!)
        message.set(11, "000001")
        message.set(70, "301")
        let needed = try message.encoded(as: dialect).count
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: needed - 1, alignment: 1)
        defer { buffer.deallocate() }
        buffer.initializeMemory(as: UInt8.self, repeating: 0xEE)
        #expect {
            _ = try message.encode(as: dialect, into: buffer)
        } throws: { error in
            (error as? ISO8583Error)?.reason == "the encoded message takes \(needed) bytes; the output buffer holds \(needed - 1)"
        }
        #expect(buffer.allSatisfy { $0 == 0xEE })
    }

    @Test(arguments: Dialect.shippedNames)
    func decodingFromABufferWithSpareCapacityMatchesDecodingTheArray(dialectName: String) throws {
        let dialect = try Dialect.shipped(dialectName)
        var generator = MessageGenerator(dialect: dialect, seed: 0x16)
        for _ in 0..<200 {
            let frame = try generator.message().0.encoded(as: dialect)
            let fromArray = try ISO8583Message(decoding: frame, dialect: dialect)
            let fromBuffer = try frame.withUnsafeBytes { try ISO8583Message(decoding: $0, dialect: dialect, spareCapacity: 16) }
            #expect(fromBuffer.mti == fromArray.mti && fromBuffer.fieldNumbers == fromArray.fieldNumbers)
            #expect(try fromBuffer.encoded(as: dialect) == frame)
        }
    }

    @Test func theAnswerSkeletonDropsRequestOnlyDataAndKeepsTheRequestIntactWhenStillUsed() throws {
        let dialect = try Dialect.shipped("iso87ascii")
        var request = ISO8583Message(mti: MTI("0200")!)
        request.set(2, "4761739001010119")
        request.set(11, "000042")
        request.set(35, "4761739001010119=27122011143804400000")
        request.set(39, "05")
        let frame = try request.encoded(as: dialect)
        let decoded = try frame.withUnsafeBytes { try ISO8583Message(decoding: $0, dialect: dialect, spareCapacity: 16) }
        var answer = decoded.answerSkeleton()
        answer.set(39, "00")
        answer.set(38, "A00001")
        #expect(answer.mti == MTI("0210")! && answer.fieldNumbers == [2, 11, 38, 39])
        #expect(answer.string(39) == "00" && answer.string(11) == "000042")
        // The request was used after: it was copied, not changed.
        #expect(decoded.mti == MTI("0200")! && decoded.fieldNumbers == [2, 11, 35, 39] && decoded.string(39) == "05")
        #expect(try decoded.encoded(as: dialect) == frame)
    }
}
