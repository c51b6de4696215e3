# ZFS: the kstat parsers and the zfs collector on tests/fixtures/zfs, and the
# renderer on a canned report (exact lines, promtool).
pvescope_unit_test(test_zfs SOURCES test_zfs.c LIBS pvescope_agent_core)
pvescope_unit_test(test_render_zfs SOURCES test_render_zfs.c LIBS pvescope_aggregator_core)
add_test(NAME test_render_zfs_promtool
  COMMAND sh -c "command -v promtool >/dev/null || { echo 'promtool not installed'; exit 77; }
                 \"$1\" --scrape \"$2\" || exit 1
                 out=$(promtool check metrics <\"$2\" 2>&1); rc=$?
                 printf '%s\\n' \"$out\"; [ $rc = 0 ] && [ -z \"$out\" ]"
          sh $<TARGET_FILE:test_render_zfs> ${CMAKE_CURRENT_BINARY_DIR}/render_zfs.prom)
set_tests_properties(test_render_zfs_promtool PROPERTIES TIMEOUT 60 LABELS unit SKIP_RETURN_CODE 77)
