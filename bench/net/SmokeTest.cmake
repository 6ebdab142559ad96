# bench_net_smoke: runs `signet-bench-net --quick` once, both sides, and checks
# that it exits with 0 (every response was the file asked for: the load generator
# fails the run on the first one that is not), printed its tables, and wrote JSON
# with a measurement of both sides for every load. Times are never checked. The
# Signet side needs the net and httpd services: without them the run fails, and
# so does this test.
execute_process(COMMAND ${BENCH} --quick --json ${JSON} --image ${IMAGE}
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "signet-bench-net --quick failed (${result}):\n${errors}")
endif()
if(NOT output MATCHES "operation +signet +linux +ratio +target")
  message(FATAL_ERROR "signet-bench-net printed no result table")
endif()
if(NOT output MATCHES "signet/linux req/s")
  message(FATAL_ERROR "signet-bench-net printed no file-serving table")
endif()
if(NOT EXISTS ${JSON})
  message(FATAL_ERROR "signet-bench-net wrote no JSON to ${JSON}")
endif()
file(READ ${JSON} json)
string(JSON count LENGTH "${json}" measurements)
if(count LESS 12)
  message(FATAL_ERROR "the JSON holds ${count} measurements, expected 12 (3 file sizes x 2 client counts x per request and latency)")
endif()
math(EXPR last "${count} - 1")
foreach(index RANGE ${last})
  string(JSON name GET "${json}" measurements ${index} name)
  foreach(side signet linux)
    string(JSON runs GET "${json}" measurements ${index} repetitions ${side})
    if(runs LESS 1)
      message(FATAL_ERROR "'${name}' has no ${side} measurement")
    endif()
  endforeach()
endforeach()
