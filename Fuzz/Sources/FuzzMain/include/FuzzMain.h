#include <stddef.h>
#include <stdint.h>

/// Runs libFuzzer's driver over the target's LLVMFuzzerTestOneInput (see FuzzMain.c).
int payswitch_fuzz_main(int argc, char **argv);
