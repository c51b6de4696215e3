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

pvescope_unit_test(test_render_sensors SOURCES test_render_sensors.c render_test_util.c
                   LIBS pvescope_aggregator_core)
pvescope_render_promtool_test(test_render_sensors render_sensors.prom)
