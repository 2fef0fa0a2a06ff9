// Fuzz target: ISO 8583 to the canonical payment message and back (ISO8583Mapping).
//
// Input: as for the iso8583 target, byte 0 picks the shipped dialect and the rest is one frame.
// A frame that decodes is mapped to a PaymentMessage with the shipped mapping of its dialect. When
// that works, the message is mapped back to ISO 8583 in the same dialect and encoded; the encoder's
// frame must decode, and must map to the same canonical message (the mapping keeps unmapped
// elements for exactly this round trip).
import FuzzMain
import Glibc
import ISO8583
import PaymentModel

let dialects: [(Dialect, ISO8583Mapping)] = Dialect.shippedNames.map { name in
    do { return (try Dialect.shipped(name), try ISO8583Mapping.shipped(for: name)) } catch {
        fatalError("shipped dialect or mapping \(name) does not load: \(error)")
    }
}
let tracing = getenv("PAYSWITCH_FUZZ_TRACE") != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let input = UnsafeRawBufferPointer(start: start, count: count)
    let (dialect, mapping) = dialects[Int(input[0]) % dialects.count]
    guard let message = try? ISO8583Message(decoding: Array(input[1...]), dialect: dialect) else { return 0 }
    let payment: PaymentMessage
    do {
        payment = try mapping.canonical(from: message, dialect: dialect)
    } catch {
        if tracing { print("\(dialect.name): \(error.description)") }
        return 0
    }
    var sink = String(describing: payment).count + String(reflecting: payment).count
    sink &+= payment.amount?.description.count ?? 0
    sink &+= payment.billingAmount?.decimalText.count ?? 0
    sink &+= payment.result.map { mapping.responseCode(for: $0)?.count ?? 0 } ?? 0
    if sink == 0x5EED_F00D { print("") }

    // Back to ISO 8583 in the same dialect.
    let rebuilt: ISO8583Message
    do {
        rebuilt = try mapping.message(from: payment, dialect: dialect)
    } catch {
        if tracing { print("\(dialect.name): back: \(error.description)") }
        return 0
    }
    let frame: [UInt8]
    do {
        frame = try rebuilt.encoded(as: dialect)
    } catch {
        // A value the canonical model accepts but the dialect cannot carry: an error, not a bug.
        if tracing { print("\(dialect.name): encode: \(error.description)") }
        return 0
    }
    let reread: ISO8583Message
    do {
        reread = try ISO8583Message(decoding: frame, dialect: dialect)
    } catch {
        fatalError("\(dialect.name): the mapped message encodes to a frame the decoder refuses: \(error)\n  frame: \(frame.count) bytes")
    }
    let again: PaymentMessage
    do {
        again = try mapping.canonical(from: reread, dialect: dialect)
    } catch {
        fatalError("\(dialect.name): the mapped message no longer maps: \(error)\n  frame: \(frame.count) bytes")
    }
    if again != payment {
        fatalError("\(dialect.name): ISO 8583 -> canonical -> ISO 8583 -> canonical changed the message\n  first:  \(payment)\n  second: \(again)\n  frame: \(frame.count) bytes")
    }
    return 0
}

/// libFuzzer's entry point (see Sources/FuzzMain/FuzzMain.c).
@_cdecl("iso8583map_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    payswitch_fuzz_main(argc, argv)
}
