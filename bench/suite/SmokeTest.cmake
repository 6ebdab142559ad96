# bench_suite_smoke: runs `signet bench --quick --json --plot` once and checks that
# it exits with 0, printed the paper-style tables, wrote JSON holding every
# measurement the suite promises, and drew both charts. Times are never checked.
cmake_policy(SET CMP0057 NEW) # if(IN_LIST) in script mode
file(REMOVE_RECURSE ${OUT})
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${SIGNET} bench --quick --json ${OUT}/bench.json --plot ${OUT}/plots
  RESULT_VARIABLE result OUTPUT_VARIABLE output ERROR_VARIABLE errors)
message("${output}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "signet bench --quick failed (${result}):\n${errors}")
endif()
foreach(title "Table 8 analogue" "Table 9 analogue" "Table 7 analogue" "Compute:" "Isolation cost:" "File serving:")
  string(FIND "${output}" "${title}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "signet bench printed no '${title}' table")
  endif()
endforeach()

file(READ ${OUT}/bench.json json)
string(JSON cpus GET "${json}" machine logical_cpus)
string(JSON count LENGTH "${json}" measurements)
string(JSON sizes LENGTH "${json}" code_size)
string(JSON failures LENGTH "${json}" failures)
if(NOT failures EQUAL 0)
  message(FATAL_ERROR "the JSON lists ${failures} failed measurement(s)")
endif()
if(sizes LESS 1)
  message(FATAL_ERROR "the JSON holds no tree-shaking row")
endif()

# Every Table 8 operation (the round trips across cores need two CPUs), and every
# other kind of row, by name and area; each with the fields the JSON promises.
set(expected
  "foundation|abi call (abi_version) vs getpid"
  "scheduler|yield round trip, 2 threads of a SIP"
  "channels|round trip 4 B vs pipe (fastest rep)"
  "channels|round trip 4 B vs futex (fastest rep)"
  "foundation|sip spawn+exit vs fork+exec"
  "foundation|sip spawn+exit vs posix_spawn"
  "domains|abi call, SIP in its own domain on the same CPU, vs pipe round trip"
  "domains|message round trip 4 B, each SIP in its own domain, vs pipe"
  "domains|message round trip 4 B, both SIPs in one shared domain, vs pipe"
  "domains|SIP start+exit in a fresh domain (zygote's spare) vs posix_spawn"
  "domains|SIP start+exit+reap in a fresh domain (zygote's spare) vs posix_spawn"
  "domains|SIP start+exit in a fresh domain (zygote, no spare) vs posix_spawn"
  "net|GET 1 KiB, 1 client, per request"
  "net|GET 16 KiB, 16 clients, per request"
  "net|GET 256 KiB, 16 clients, latency")
if(cpus GREATER 1)
  list(APPEND expected "crosscore|round trip 4 B across cores vs pipe" "crosscore|round trip 4 B across cores vs futex")
endif()
set(found)
set(tables)
math(EXPR last "${count} - 1")
foreach(i RANGE ${last})
  string(JSON name GET "${json}" measurements ${i} name)
  string(JSON area GET "${json}" measurements ${i} area)
  string(JSON table GET "${json}" measurements ${i} table)
  foreach(field signet_ns linux_ns signet_cycles linux_cycles ratio repetitions spread)
    string(JSON value ERROR_VARIABLE missing GET "${json}" measurements ${i} ${field})
    if(missing)
      message(FATAL_ERROR "measurement '${name}' has no ${field}")
    endif()
  endforeach()
  list(APPEND found "${area}|${name}")
  list(APPEND tables "${table}")
endforeach()
foreach(row IN LISTS expected)
  if(NOT row IN_LIST found)
    message(FATAL_ERROR "the JSON has no measurement '${row}'")
  endif()
endforeach()
foreach(table 8 9 compute files)
  if(NOT table IN_LIST tables)
    message(FATAL_ERROR "the JSON has no row of table ${table}")
  endif()
endforeach()

foreach(png payload.png table8.png)
  if(NOT EXISTS ${OUT}/plots/${png})
    message(FATAL_ERROR "signet bench --plot drew no ${png}")
  endif()
  file(SIZE ${OUT}/plots/${png} bytes)
  if(bytes LESS 1000)
    message(FATAL_ERROR "${png} is only ${bytes} bytes")
  endif()
endforeach()
