// obsrv-loadgen: the load generator behind the project's benchmarks. All the
// logic is in obsrv_loadgen_lib so that the tests can drive it in-process.

#include "run.h"

int main(int argc, char** argv) {
    return obsrv::loadgen::loadgen_main(argc, argv);
}
