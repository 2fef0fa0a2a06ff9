// libxml2 alone, under any decoder built on it: the floors the ISO 20022 decode is measured
// against, shared by ISO20022Benchmarks and the profiling loop ISO20022DecodeLoop.
@preconcurrency import CLibXML2Bench

#if canImport(Glibc)
@preconcurrency import Glibc
#elseif canImport(Darwin)
@preconcurrency import Darwin
#endif

/// One xmlTextReader pass with the decoder's options: every node is read, and its local name and
/// value are touched (their lengths summed) so the pass cannot be optimised away. No Swift strings,
/// no allocations of our own: the floor under any decoder built on this reader.
public enum BareReader {
    private static let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

    private static let initialized: Bool = {
        xmlInitParser()
        return true
    }()

    public static func pass(_ bytes: [UInt8]) -> Int {
        _ = initialized
        return bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                guard let reader = xmlReaderForMemory(chars.baseAddress, Int32(chars.count), "message.xml", nil, options) else {
                    return -1
                }
                defer { xmlFreeTextReader(reader) }
                var total = 0
                while xmlTextReaderRead(reader) == 1 {
                    total &+= length(xmlTextReaderConstLocalName(reader))
                    total &+= length(xmlTextReaderConstValue(reader))
                }
                return total
            }
        }
    }

    @inline(__always)
    private static func length(_ pointer: UnsafePointer<xmlChar>?) -> Int {
        guard let pointer else { return 0 }
        return strlen(UnsafeRawPointer(pointer).assumingMemoryBound(to: CChar.self))
    }
}

/// libxml2's SAX2 parser with callbacks that only count elements: what libxml2 itself costs, under
/// any decoder built on it (ours uses these callbacks). Any decoder's rate is below this one's.
public enum BareSAX {
    private static let options = Int32(XML_PARSE_NONET.rawValue | XML_PARSE_NOERROR.rawValue | XML_PARSE_NOWARNING.rawValue)

    nonisolated(unsafe) private static let handler: xmlSAXHandler = {
        var sax = xmlSAXHandler()
        sax.initialized = XML_SAX2_MAGIC
        sax.startElementNs = { ctx, _, _, _, _, _, _, _, _ in
            ctx?.assumingMemoryBound(to: Int.self).pointee += 1
        }
        sax.endElementNs = { _, _, _, _ in }
        sax.characters = { _, _, _ in }
        return sax
    }()

    public static func pass(_ bytes: [UInt8]) -> Int {
        var elements = 0
        var sax = handler
        bytes.withUnsafeBufferPointer { buffer in
            buffer.withMemoryRebound(to: CChar.self) { chars in
                withUnsafeMutablePointer(to: &elements) { counter in
                    guard let ctxt = xmlCreatePushParserCtxt(&sax, counter, nil, 0, nil) else { return }
                    defer { xmlFreeParserCtxt(ctxt) }
                    xmlCtxtUseOptions(ctxt, options)
                    xmlParseChunk(ctxt, chars.baseAddress, Int32(chars.count), 1)
                }
            }
        }
        return elements
    }
}
