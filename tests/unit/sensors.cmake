# Hardware sensors: the sensors collector with the real libsensors on a fake
# hwmon tree in a private mount namespace (sensors_hwmon.sh; needs root,
# skipped with 77 otherwise), and the renderer on a canned report.
add_executable(test_sensors_hwmon test_sensors_hwmon.c)
target_link_libraries(test_sensors_hwmon PRIVATE pvescope_agent_core PkgConfig::CMOCKA m)
target_compile_options(test_sensors_hwmon PRIVATE -U_FORTIFY_SOURCE)
target_compile_definitions(test_sensors_hwmon PRIVATE FIXTURES="${PVESCOPE_FIXTURES}")
add_test(NAME test_sensors_hwmon
  COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/sensors_hwmon.sh
          $<TARGET_FILE:test_sensors_hwmon> $<TARGET_FILE:pvescope-agent>)
set_tests_properties(test_sensors_hwmon PROPERTIES TIMEOUT 60 LABELS unit SKIP_RETURN_CODE 77
  ENVIRONMENT "UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1;ASAN_OPTIONS=detect_leaks=1")

pvescope_unit_test(test_render_sensors SOURCES test_render_sensors.c LIBS pvescope_aggregator_core)
# The same canned report as a whole scrape must pass `promtool check metrics`
# without a lint message (as tests/e2e/pipeline.sh checks /metrics).
add_test(NAME test_render_sensors_promtool
  COMMAND sh -c "command -v promtool >/dev/null || { echo 'promtool not installed'; exit 77; }
                 \"$1\" --scrape \"$2\" || exit 1
                 out=$(promtool check metrics <\"$2\" 2>&1); rc=$?
                 printf '%s\\n' \"$out\"; [ $rc = 0 ] && [ -z \"$out\" ]"
          sh $<TARGET_FILE:test_render_sensors> ${CMAKE_CURRENT_BINARY_DIR}/render_sensors.prom)
set_tests_properties(test_render_sensors_promtool PROPERTIES TIMEOUT 60 LABELS unit SKIP_RETURN_CODE 77)
