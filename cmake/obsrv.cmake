# Project-wide compile options and helpers: one library per src/ folder,
# tests and benchmarks registered the same way everywhere.

add_library(obsrv_options INTERFACE)
target_compile_options(obsrv_options INTERFACE
  -Wall -Wextra -Wpedantic -Wshadow -Wnon-virtual-dtor -Wold-style-cast
  -Wcast-align -Wunused -Woverloaded-virtual -Wformat=2
  -Wimplicit-fallthrough)
if(OBSRV_WERROR)
  target_compile_options(obsrv_options INTERFACE -Werror)
endif()
# -Wnull-dereference is left out: with GCC 12 it flags libstdc++'s std::string
# internals at -O2/-O3 depending on inlining, so builds differed by type.
# GCC 12 reports false -Wrestrict overlaps inside libstdc++'s std::string at
# -O2/-O3 (GCC bugs 105329, 105651); the warning stays on for other compilers.
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
  target_compile_options(obsrv_options INTERFACE -Wno-restrict)
endif()
if(OBSRV_SANITIZE)
  target_compile_options(obsrv_options INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer)
  target_link_options(obsrv_options INTERFACE -fsanitize=address,undefined)
endif()
if(OBSRV_TSAN)
  target_compile_options(obsrv_options INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(obsrv_options INTERFACE -fsanitize=thread)
endif()
if(OBSRV_FRAME_POINTERS OR CMAKE_BUILD_TYPE STREQUAL "RelWithDebInfo")
  target_compile_options(obsrv_options INTERFACE -fno-omit-frame-pointer -mno-omit-leaf-frame-pointer)
endif()
# lld when present (scripts/setup.sh installs it): the ~70 executables link 2-3x faster than
# with ld.bfd, most of all the ASan ones with their debug info.
include(CheckLinkerFlag)
check_linker_flag(CXX -fuse-ld=lld OBSRV_HAVE_LLD)
if(OBSRV_HAVE_LLD)
  target_link_options(obsrv_options INTERFACE -fuse-ld=lld)
endif()
# mimalloc replaces malloc in the executables; sanitizers bring their own allocator.
if(OBSRV_SANITIZE OR OBSRV_TSAN)
  set(OBSRV_USE_MIMALLOC OFF)
else()
  set(OBSRV_USE_MIMALLOC ON)
endif()

# obsrv_add_library(NAME common SRCS a.cc b.cc DEPS x y)
# Creates target obsrv_<NAME> with alias obsrv::<NAME>; include root is src/.
function(obsrv_add_library)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_library(obsrv_${ARG_NAME} STATIC ${ARG_SRCS})
  add_library(obsrv::${ARG_NAME} ALIAS obsrv_${ARG_NAME})
  target_include_directories(obsrv_${ARG_NAME} PUBLIC ${PROJECT_SOURCE_DIR}/src)
  target_link_libraries(obsrv_${ARG_NAME} PUBLIC obsrv_options ${ARG_DEPS})
endfunction()

# obsrv_add_executable(NAME obsrvd SRCS main.cc DEPS ...)
# Links mimalloc first so that it interposes malloc/free for the whole process.
function(obsrv_add_executable)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  if(OBSRV_USE_MIMALLOC)
    target_link_libraries(${ARG_NAME} PRIVATE mimalloc)
    target_compile_definitions(${ARG_NAME} PRIVATE OBSRV_USE_MIMALLOC=1)
  endif()
  target_link_libraries(${ARG_NAME} PRIVATE obsrv_options ${ARG_DEPS})
endfunction()

# obsrv_add_test(NAME config_test SRCS config_test.cc DEPS obsrv::common LABELS unit)
function(obsrv_add_test)
  cmake_parse_arguments(ARG "" "NAME;TIMEOUT" "SRCS;DEPS;LABELS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE obsrv_options ${ARG_DEPS} GTest::gtest GTest::gmock
                                            GTest::gtest_main)
  # The code under test comes from the libraries, built -O3 like the binaries; the test's own
  # translation unit (gtest macros, fixtures) gains nothing from -O3 and compiles a third faster
  # at -O1, which keeps the whole test run within its time budget.
  target_compile_options(${ARG_NAME} PRIVATE $<$<CONFIG:Release>:-O1>)
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 120)
  endif()
  if(NOT ARG_LABELS)
    set(ARG_LABELS unit)
  endif()
  # One CTest entry per binary keeps the run short; gtest filters select cases.
  add_test(NAME ${ARG_NAME} COMMAND ${ARG_NAME})
  # COST: without a previous run's times, ctest starts the tests of higher cost first; the long
  # integration suites are the ones with long timeouts, and starting them first keeps them from
  # trailing alone at the end of a parallel run.
  set_tests_properties(${ARG_NAME} PROPERTIES TIMEOUT ${ARG_TIMEOUT} COST ${ARG_TIMEOUT}
    LABELS "${ARG_LABELS}"
    ENVIRONMENT "OBSRV_SOURCE_DIR=${PROJECT_SOURCE_DIR};OBSRV_BINARY_DIR=${PROJECT_BINARY_DIR}")
endfunction()

# obsrv_add_bench(NAME spsc_ring_bench SRCS spsc_ring_bench.cc DEPS obsrv::common)
function(obsrv_add_bench)
  cmake_parse_arguments(ARG "" "NAME" "SRCS;DEPS" ${ARGN})
  add_executable(${ARG_NAME} ${ARG_SRCS})
  target_link_libraries(${ARG_NAME} PRIVATE obsrv_options ${ARG_DEPS} benchmark::benchmark
                                            benchmark::benchmark_main)
endfunction()
