// Entry points for the fuzz executables.
//
// In debug builds on Linux, SwiftPM links every Swift executable with `--defsym main=<Module>_main`, so that
// test targets can link the executable's code without two `main`s. The fuzz targets are built with
// -parse-as-library and have no Swift entry point, and libFuzzer's own `main` is then shadowed by that alias.
// So each target's `<Module>_main` is defined here and hands control to libFuzzer's driver, exactly as
// libFuzzer's `main` would. Each executable references only its own; the others are never called.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_ENTRY(module) \
    int module##_main(int argc, char **argv) { return LLVMFuzzerRunDriver(&argc, &argv, LLVMFuzzerTestOneInput); }

FUZZ_ENTRY(FuzzHTTPHead)
FUZZ_ENTRY(FuzzChunked)
FUZZ_ENTRY(FuzzMultipart)
FUZZ_ENTRY(FuzzURLEncoded)
FUZZ_ENTRY(FuzzJSON)
FUZZ_ENTRY(FuzzFieldRules)
FUZZ_ENTRY(FuzzRESP)
FUZZ_ENTRY(FuzzQuotaReply)
