@preconcurrency internal import CLibXML2
import Synchronization

extension StreamingReader {
    /// libxml2 parser contexts kept between parses, each with the SAX2 handler installed.
    ///
    /// Making a context (its dictionary, stacks and input tables) and freeing it took some thirty
    /// allocations and a sixteenth of libxml2's work on a 3 KB message, and a new dictionary
    /// interns every element name again; a reused context finds them there. A context is reused
    /// only after a parse that went through without an error (libxml2 resets it as
    /// `xmlCtxtReadMemory` documents), and never once its dictionary holds more than
    /// ``maxDictionaryNames`` names: names from untrusted documents must not pile up.
    final class ParserContexts: Sendable {
        /// A context no thread is parsing with.
        private struct Idle: @unchecked Sendable {
            let context: xmlParserCtxtPtr
        }

        /// Enough for every thread that decodes at once on this machine class; more are freed.
        static let capacity = 16
        static let maxDictionaryNames = 2_048

        private let idle = Mutex<[Idle]>([])

        /// An idle context, or a new one with the handler installed; nil when libxml2 cannot make one.
        func take() -> xmlParserCtxtPtr? {
            if let reused = idle.withLock({ $0.popLast() }) { return reused.context }
            guard let context = xmlNewParserCtxt() else { return nil }
            guard let sax = context.pointee.sax else {
                xmlFreeParserCtxt(context)
                return nil
            }
            // The context owns this copy (and frees it with itself); the options only ever
            // clear its error and warning callbacks, the same way every time.
            sax.pointee = SAXReaderState.handler
            return context
        }

        /// Gives a context back after a parse: kept for the next one when `reusable`, else freed.
        func release(_ context: xmlParserCtxtPtr, reusable: Bool) {
            context.pointee.userData = nil
            context.pointee.vctxt.userData = nil
            let keep = reusable && xmlDictSize(context.pointee.dict) <= ParserContexts.maxDictionaryNames
            if keep {
                // Drops the input (and its copy of the document) now, not at the next parse.
                xmlCtxtReset(context)
                let kept = idle.withLock { idle -> Bool in
                    guard idle.count < ParserContexts.capacity else { return false }
                    idle.append(Idle(context: context))
                    return true
                }
                if kept { return }
            }
            xmlFreeParserCtxt(context)
        }
    }

    static let parserContexts = ParserContexts()
}
