// Fuzz target: the ISO 8583 decoder over every shipped dialect, with the encoder as its oracle.
//
// Input: byte 0 picks the dialect (its index in Dialect.shippedNames, modulo their count), the
// rest is one frame. A frame that decodes must re-encode to exactly the same bytes: the decoder
// refuses every form the encoder would not write back (lowercase hexadecimal bitmaps, empty
// secondary bitmaps …), so a difference means it accepted a non-canonical frame. A decoded
// message written in another 1987 dialect must decode there, to the same values.
import FuzzMain
import Glibc
import ISO8583

let dialects: [Dialect] = Dialect.shippedNames.map { name in
    do { return try Dialect.shipped(name) } catch { fatalError("shipped dialect \(name) does not load: \(error)") }
}
/// The dialects that share the 1987 field set, between which a message can be transcoded.
let family87 = dialects.filter { $0.name.hasPrefix("iso87") }
let tracing = getenv("PAYSWITCH_FUZZ_TRACE") != nil

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let input = UnsafeRawBufferPointer(start: start, count: count)
    let dialect = dialects[Int(input[0]) % dialects.count]
    let frame = Array(input[1...])
    let message: ISO8583Message
    do {
        message = try ISO8583Message(decoding: frame, dialect: dialect)
    } catch {
        let text = error.description
        if tracing { print("\(dialect.name): \(text)") }
        return 0
    }
    if tracing { print("\(dialect.name): decoded \(message.mti) with fields \(message.fieldNumbers)") }

    // The oracle: decode then encode gives back the frame, byte for byte.
    do {
        let encoded = try message.encoded(as: dialect)
        if encoded != frame {
            fatalError("\(dialect.name): decoded frame re-encodes differently\n  in:  \(frame.count) bytes\n  out: \(encoded.count) bytes")
        }
    } catch {
        fatalError("\(dialect.name): decoded frame does not re-encode: \(error)\n  in:  \(frame.count) bytes")
    }

    exercise(message, dialect)
    if dialect.name.hasPrefix("iso87") { transcode(message, from: dialect) }
    return 0
}

/// Every read-only accessor, the composite parsers and masking, over every present field.
func exercise(_ message: ISO8583Message, _ dialect: Dialect) {
    var sink = message.mti.description.count + message.mti.response.description.count + message.fieldCount
    sink += message.mti.expectsResponse ? 1 : 0
    for field in message.fieldNumbers {
        sink &+= message.string(field)?.count ?? 0
        sink &+= message.bytes(field)?.count ?? 0
        sink &+= message.wireBytes(field)?.count ?? 0
        sink &+= message.length(field) ?? 0
        sink &+= Int(truncatingIfNeeded: message.integer(field) ?? 0)
        sink &+= message.maskedString(field, dialect: dialect)?.count ?? 0
        if let subfields = try? message.subfields(field, dialect: dialect) {
            for subfield in subfields {
                sink &+= subfield.sensitivity.mask(String(decoding: subfield.value, as: UTF8.self)).count + subfield.name.count
            }
        }
        // Any field read as BER-TLV: the parser must reject garbage, not crash on it.
        if let objects = try? message.tlv(field) { sink &+= walk(objects) }
    }
    if sink == 0x5EED_F00D { print("") }  // keeps the reads
}

func walk(_ objects: [BERTLV]) -> Int {
    var sink = 0
    for object in objects {
        sink &+= object.maskedValue.count + object.hexValue.count + object.name.count + (object.isConstructed ? 1 : 0)
        sink &+= walk(object.children)
    }
    return sink
}

/// Writes the message in the other 1987 dialects: what the encoder writes, the decoder must read,
/// with the same values.
func transcode(_ message: ISO8583Message, from source: Dialect) {
    for target in family87 where target.name != source.name {
        guard let written = try? message.encoded(as: target) else { continue }
        let reread: ISO8583Message
        do {
            reread = try ISO8583Message(decoding: written, dialect: target)
        } catch {
            fatalError("\(source.name) -> \(target.name): the encoder wrote a frame the decoder refuses: \(error)\n  source: \(try! message.encoded(as: source).count) bytes\n  written: \(written.count) bytes")
        }
        guard reread.fieldNumbers == message.fieldNumbers, reread.mti == message.mti else {
            fatalError("\(source.name) -> \(target.name): fields \(message.fieldNumbers) came back as \(reread.fieldNumbers)")
        }
        for field in message.fieldNumbers where reread.bytes(field) != message.bytes(field) {
            // A fixed field the target makes longer (iso87bcd's DE 93 is jPOS's 6, not 5) comes
            // back padded by the target's rule, and only so.
            if let spec = target[field: field], case .fixed = spec.length, let original = message.bytes(field), let back = reread.bytes(field),
               back.count == spec.maxLength, back.count > original.count,
               padded(original, to: back.count, spec.padding, spec.padCharacter) == back { continue }
            fatalError("\(source.name) -> \(target.name): DE \(field) changed from \(message.bytes(field)!.count) bytes to \(reread.bytes(field)!.count) bytes")
        }
    }
}

/// A value padded to `count` as a fixed field pads it.
func padded(_ value: [UInt8], to count: Int, _ padding: Padding, _ character: UInt8) -> [UInt8] {
    let pad = [UInt8](repeating: character, count: count - value.count)
    return padding == .left ? pad + value : value + pad
}

/// libFuzzer's entry point (see Sources/FuzzMain/FuzzMain.c).
@_cdecl("iso8583_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    payswitch_fuzz_main(argc, argv)
}
