# ZFS: the kstat parsers and the zfs collector on tests/fixtures/zfs, and the
# renderer on a canned report (exact lines, promtool).
pvescope_unit_test(test_zfs SOURCES test_zfs.c LIBS pvescope_agent_core)
pvescope_unit_test(test_render_zfs SOURCES test_render_zfs.c render_test_util.c LIBS pvescope_aggregator_core)
pvescope_render_promtool_test(test_render_zfs render_zfs.prom)
