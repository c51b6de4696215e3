# NVMe SMART/health: the decoders, the collector against a scripted port and
# on this machine (agent/nvme.c, agent/nvme_smart.c), and the pve_nvme_*
# rendering (aggregator/render_nvme.c), whose exposition promtool checks when
# it is installed.
pvescope_unit_test(test_nvme SOURCES test_nvme.c LIBS pvescope_agent_core)
pvescope_unit_test(test_render_nvme SOURCES test_render_nvme.c render_test_util.c LIBS pvescope_aggregator_core)
find_program(PROMTOOL promtool)
if(PROMTOOL)
  target_compile_definitions(test_render_nvme PRIVATE PROMTOOL="${PROMTOOL}")
endif()
if(NOT PROMTOOL)
  message(STATUS "promtool not found: test_render_nvme checks its exact lines but not promtool's lint")
endif()
