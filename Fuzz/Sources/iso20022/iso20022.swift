// Fuzz target: the ISO 20022 codec (libxml2 streaming reader, message mappings, writer).
//
// Input: an XML document. It is parsed (size, depth, DOCTYPE and namespace checks), checked with
// the business rules and mapped to the canonical message by the mapping of its message type; a
// mapped message is written back as every message definition (those that cannot carry its kind
// refuse). Errors are expected; crashes, traps and sanitizer reports are the findings. What the
// writer produces must read back and map again: a document the codec writes and then refuses is
// a bug.
import FuzzMain
import Glibc
import ISO20022
import PaymentModel

let codec = ISO20022Codec()
let tracing = getenv("PAYSWITCH_FUZZ_TRACE") != nil
/// A fixed creation time, so that nothing depends on the clock.
let creation = "2024-01-02T03:04:05Z"

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ start: UnsafeRawPointer, _ count: Int) -> CInt {
    let bytes = Array(UnsafeRawBufferPointer(start: start, count: count))
    let document: ISO20022Document
    do {
        document = try codec.parse(bytes)
    } catch {
        if tracing { print("parse: \(error.description)") }
        return 0
    }
    var sink = document.elements.count + document.header.count
    for element in document.elements.prefix(64) { sink &+= element.location.count }
    for problem in ISO20022BusinessRules.check(document) { sink &+= problem.description.count }
    let message: PaymentMessage
    do {
        message = try ISO20022Codec.map(document)
    } catch {
        if tracing { print("map: \(error.description)") }
        return 0
    }
    sink &+= message.amount?.decimalText.count ?? 0
    if sink == 0x5EED_F00D { print("") }

    // The message's own definition, then every other one.
    if let written = try? ISO20022Codec.encode(message, creationDateTime: creation) { reread(written, message) }
    for definition in ISO20022MessageDefinition.allCases {
        if let written = try? ISO20022Codec.encode(message, as: definition, creationDateTime: creation) {
            reread(written, message)
        }
    }
    return 0
}

/// What the writer wrote must parse and map.
func reread(_ written: String, _ original: PaymentMessage) {
    do {
        let again = try codec.decode(written)
        if again.kind != original.kind {
            fatalError("written as \(again.source?.version ?? "?"), a \(original.kind) reads back as a \(again.kind)\n\(written)")
        }
    } catch {
        fatalError("the writer produced a document the reader refuses: \(error)\n\(written)")
    }
}

/// libFuzzer's entry point (see Sources/FuzzMain/FuzzMain.c).
@_cdecl("iso20022_main")
public func entry(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> CInt {
    payswitch_fuzz_main(argc, argv)
}
