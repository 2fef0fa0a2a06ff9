// The system libxml2 (Debian libxml2-dev), for the ISO 20022 codec only.
#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU, so encoding.h would pull in the system's <unicode/ucnv.h>, whose
// enums clash with Foundation's own copy of ICU (_FoundationICU) in any module that sees both. The
// codec uses no ICU type: leave the system ICU headers out.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlreader.h>
#include <libxml/xmlerror.h>
#include <libxml/parserInternals.h>

// `xmlFree` is a global *variable* (a function pointer); Swift 6 rejects references to it as not
// concurrency-safe, so it is wrapped.
static inline void CLibXML2_xmlFree(void *p) { xmlFree(p); }
