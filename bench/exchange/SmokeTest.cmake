# bench_exchange_smoke: runs `signet-bench-exchange --quick` and checks only that
# it exits with 0, printed its table and wrote its JSON. Times are never checked.
execute_process(COMMAND ${BENCH} --quick --json ${JSON}
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "signet-bench-exchange --quick failed (${result}):\n${errors}")
endif()
if(NOT output MATCHES "operation +signet +linux +ratio +target")
  message(FATAL_ERROR "signet-bench-exchange printed no result table")
endif()
if(NOT EXISTS ${JSON})
  message(FATAL_ERROR "signet-bench-exchange wrote no JSON to ${JSON}")
endif()
