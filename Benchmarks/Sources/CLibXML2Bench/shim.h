// The system libxml2 (Debian libxml2-dev), for the bare reader baseline of ISO20022Benchmarks.
// A copy of the main package's CLibXML2 under another module name: the main package already owns
// a module called CLibXML2.
#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU, so encoding.h would pull in the system's <unicode/ucnv.h>, whose
// enums clash with Foundation's own copy of ICU (_FoundationICU) in any module that sees both.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/xmlreader.h>
