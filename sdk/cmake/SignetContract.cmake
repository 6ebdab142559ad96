# signet_add_contract(<target> CONTRACT <file.contract>)
#
# Generates the C bindings of a contract file at build time with
# signet-contractc: <stem>.h (see docs/contracts.md, "The generated C API") in
# ${CMAKE_CURRENT_BINARY_DIR}/<target>/, which becomes the include directory
# for the SIPs that speak the contract. Adds a target <target> that produces
# the header and sets, for its users:
#  - target properties SIGNET_CONTRACT_INCLUDE_DIR and SIGNET_CONTRACT_HEADER;
#  - variables <target>_INCLUDE_DIR and <target>_HEADER in the caller's scope.
# The header is regenerated when the contract, any file it imports (through a
# depfile), or the generator changes.
#
#   signet_add_contract(calculator_contract CONTRACT calculator.contract)
#   signet_add_sip(calculator SOURCES server.c INCLUDE_DIRECTORIES ${calculator_contract_INCLUDE_DIR})
#   add_dependencies(calculator calculator_contract)
function(signet_add_contract target)
  cmake_parse_arguments(PARSE_ARGV 1 CONTRACT "" "CONTRACT" "")
  if(NOT CONTRACT_CONTRACT)
    message(FATAL_ERROR "signet_add_contract(${target}): CONTRACT <file.contract> is required")
  endif()
  if(CONTRACT_UNPARSED_ARGUMENTS)
    message(FATAL_ERROR "signet_add_contract(${target}): unexpected arguments ${CONTRACT_UNPARSED_ARGUMENTS}")
  endif()
  get_filename_component(source ${CONTRACT_CONTRACT} ABSOLUTE BASE_DIR ${CMAKE_CURRENT_SOURCE_DIR})
  # The generator names the header after the file without its last extension.
  get_filename_component(stem ${source} NAME_WLE)
  set(include_dir ${CMAKE_CURRENT_BINARY_DIR}/${target})
  set(header ${include_dir}/${stem}.h)
  set(depfile ${include_dir}/${stem}.d)
  add_custom_command(
    OUTPUT ${header}
    COMMAND signet-contractc gen c ${source} ${include_dir} --depfile ${depfile}
    DEPENDS ${source} signet-contractc
    DEPFILE ${depfile}
    COMMENT "Generating ${stem}.h from ${CONTRACT_CONTRACT}"
    VERBATIM)
  add_custom_target(${target} DEPENDS ${header})
  set_target_properties(${target} PROPERTIES
    SIGNET_CONTRACT_INCLUDE_DIR ${include_dir}
    SIGNET_CONTRACT_HEADER ${header})
  set(${target}_INCLUDE_DIR ${include_dir} PARENT_SCOPE)
  set(${target}_HEADER ${header} PARENT_SCOPE)
endfunction()
