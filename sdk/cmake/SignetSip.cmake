# signet_add_sip(<name> SOURCES <files>... [PERSONALITY wasi|native] [FLAGS <flags>...]
#                [INCLUDE_DIRECTORIES <dirs>...])
#
# Builds C or C++ sources into <name>.wasm in the current binary directory with
# Debian's clang for wasm32-wasi, and adds a target <name> that produces it.
#  - PERSONALITY wasi (default): links wasi-libc; the program may use stdio and
#    the rest of the C library, served by Signet's WASI personality.
#  - PERSONALITY native: freestanding; the program uses only <signet/abi.h>
#    and must define `void _start(void)`.
# The property SIGNET_WASM on the target holds the path of the module.
set(SIGNET_SDK_DIR ${CMAKE_CURRENT_LIST_DIR}/..)

function(signet_add_sip name)
  cmake_parse_arguments(PARSE_ARGV 1 SIP "" "PERSONALITY" "SOURCES;FLAGS;INCLUDE_DIRECTORIES")
  if(NOT SIP_PERSONALITY)
    set(SIP_PERSONALITY wasi)
  endif()
  set(output ${CMAKE_CURRENT_BINARY_DIR}/${name}.wasm)
  set(sources)
  foreach(source IN LISTS SIP_SOURCES)
    get_filename_component(absolute ${source} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(APPEND sources ${absolute})
  endforeach()
  set(includes -I${SIGNET_SDK_DIR}/include)
  foreach(dir IN LISTS SIP_INCLUDE_DIRECTORIES)
    get_filename_component(absolute ${dir} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
    list(APPEND includes -I${absolute})
  endforeach()
  # The function table is exported: thread_create names a thread's entry by its
  # index there and the kernel calls through it, but clang runs binaryen's wasm-opt
  # after linking when it finds it, which drops a table that the module itself
  # never calls through (the installer takes the export off again).
  set(common --target=wasm32-wasi --sysroot=/usr -O2 -Wall -Wno-unused-command-line-argument -Wl,--export-table ${includes})
  if(SIP_PERSONALITY STREQUAL "native")
    list(APPEND common -nostdlib -Wl,--no-entry -Wl,--export=_start)
  elseif(NOT SIP_PERSONALITY STREQUAL "wasi")
    message(FATAL_ERROR "signet_add_sip(${name}): PERSONALITY must be wasi or native, not '${SIP_PERSONALITY}'")
  endif()
  # The headers each source includes (generated contract headers among them) go
  # into a depfile, so that a changed header rebuilds the module. clang writes one
  # dependency file per source when it compiles several, each over the last: the
  # list is made by a separate `-M` pass over all of them, to standard output.
  list(JOIN common " " common_text)
  list(JOIN SIP_FLAGS " " flags_text)
  list(JOIN sources " " sources_text)
  add_custom_command(
    OUTPUT ${output}
    COMMAND sh -c "${SIGNET_WASM_CC} ${common_text} ${flags_text} -M -MT ${output} ${sources_text} > ${output}.d"
    COMMAND ${SIGNET_WASM_CC} ${common} ${SIP_FLAGS} ${sources} -o ${output}
    DEPFILE ${output}.d
    DEPENDS ${sources} ${SIGNET_SDK_DIR}/include/signet/abi.h ${SIGNET_SDK_DIR}/include/signet/abi_functions.def
    COMMENT "Building SIP module ${name}.wasm"
    VERBATIM)
  add_custom_target(${name} ALL DEPENDS ${output})
  set_target_properties(${name} PROPERTIES SIGNET_WASM ${output})
endfunction()
