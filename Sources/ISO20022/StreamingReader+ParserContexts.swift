@preconcurrency internal import CLibXML2
import Synchronization

extension StreamingReader {
    /// libxml2 parser contexts kept between parses, each with the SAX2 handler installed and the
    /// reader's buffers.
    ///
    /// Making a context (its dictionary, stacks and input tables) and freeing it took some thirty
    /// allocations and a sixteenth of libxml2's work on a 3 KB message, and a new dictionary
    /// interns every element name again; a reused context finds them there. A context is reused
    /// only after a parse that went through without an error (libxml2 resets it as
    /// `xmlCtxtReadMemory` documents), and never once its dictionary holds more than
    /// ``maxDictionaryNames`` names: names from untrusted documents must not pile up.
    final class ParserContexts: Sendable {
        /// A context, the reader state's memory and the buffers of its last parse. Used by one
        /// parse at a time: taken from the idle list, given back after.
        final class Session: @unchecked Sendable {
            let context: xmlParserCtxtPtr
            /// Initialized only during a parse.
            let state = UnsafeMutablePointer<SAXReaderState>.allocate(capacity: 1)
            var buffers: ReaderBuffers?

            init?() {
                guard let context = xmlNewParserCtxt() else { return nil }
                guard let sax = context.pointee.sax else {
                    xmlFreeParserCtxt(context)
                    return nil
                }
                // The context owns this copy (and frees it with itself); the options only ever
                // clear its error and warning callbacks, the same way every time.
                sax.pointee = SAXReaderState.handler
                self.context = context
                buffers = ReaderBuffers()
            }

            deinit {
                state.deallocate()
                xmlFreeParserCtxt(context)
            }
        }

        /// More than the threads that decode at once (the switch's queues); a context given back
        /// when this many are idle is freed.
        static let capacity = 16
        static let maxDictionaryNames = 2_048

        private let idle = Mutex<[Session]>([])

        /// An idle session, or a new one; nil when libxml2 cannot make a context.
        func take() -> Session? {
            idle.withLock { $0.popLast() } ?? Session()
        }

        /// How many names each idle context's dictionary holds.
        var idleDictionarySizes: [Int] {
            idle.withLock { $0.map { Int(xmlDictSize($0.context.pointee.dict)) } }
        }

        /// Gives a session back after a parse: kept for the next one when `reusable` (and small
        /// enough), else freed.
        func release(_ session: Session, reusable: Bool) {
            let context = session.context
            // The handler has no startDocument, so libxml2 builds no document; should one be there,
            // it goes now rather than stay with a kept context.
            if let document = context.pointee.myDoc {
                xmlFreeDoc(document)
                context.pointee.myDoc = nil
            }
            context.pointee.userData = nil
            context.pointee.vctxt.userData = nil
            guard reusable, xmlDictSize(context.pointee.dict) <= ParserContexts.maxDictionaryNames,
                  session.buffers?.areSmall == true else { return }
            // Drops the input (and its copy of the document) now, not at the next parse.
            xmlCtxtReset(context)
            idle.withLock { idle in
                if idle.count < ParserContexts.capacity { idle.append(session) }
            }
        }
    }

    static let parserContexts = ParserContexts()
}
