// libFuzzer's `main`, for SwiftPM executables.
//
// SwiftPM links every executable target with `--defsym main=<target>_main` (its renaming for
// testable executables). That replaces the `main` of libFuzzer's runtime, and a target built with
// -parse-as-library defines no `<target>_main`, so the link fails. Each fuzz target therefore
// defines `<target>_main` with @_cdecl and calls this, which does what libFuzzer's own main does.
// (A second --defsym `<target>_main=payswitch_fuzz_main` does not work: gold evaluates --defsym in
// command-line order, so `main` would become 0.)
#include "FuzzMain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

int payswitch_fuzz_main(int argc, char **argv) {
    return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput);
}
