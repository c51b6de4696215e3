/* families.h — every metric family the aggregator serves, in output order.
 *
 * FAMILY(id, name, type, source, help)
 *   source: DYN   computed at scrape time from the store (self metrics)
 *           NODE  pre-rendered per node at ingest time from its latest report
 *           MERGE rendered at scrape time from the merge of a cluster's reports
 *                 (merge.c: members, inventory, placement, guest runtime)
 * A family may get samples from NODE and MERGE both (pve_cpu_usage_ratio has
 * node series from the node's report and guest series from the merge). The
 * help texts of exporter-compatible families are the exporter's, verbatim.
 * docs/metrics.md documents each; tests/unit/test_docs.c checks that it does. */
#define PVESCOPE_FAMILIES(FAMILY) \
  FAMILY(PVE_UP, "pve_up", GAUGE, MERGE, "Node/VM/CT-Status is online/running") \
  FAMILY(PVE_NODE_INFO, "pve_node_info", GAUGE, MERGE, "Node info") \
  FAMILY(PVE_CLUSTER_INFO, "pve_cluster_info", GAUGE, MERGE, "Cluster info") \
  FAMILY(PVE_VERSION_INFO, "pve_version_info", GAUGE, MERGE, "Proxmox VE version info") \
  FAMILY(PVE_GUEST_INFO, "pve_guest_info", GAUGE, MERGE, "VM/CT info") \
  FAMILY(PVE_STORAGE_INFO, "pve_storage_info", GAUGE, MERGE, "Storage info") \
  FAMILY(PVE_STORAGE_SHARED, "pve_storage_shared", GAUGE, MERGE, "Whether or not the storage is shared among cluster nodes") \
  FAMILY(PVE_ONBOOT_STATUS, "pve_onboot_status", GAUGE, MERGE, "Proxmox vm config onboot value") \
  FAMILY(PVE_LOCK_STATE, "pve_lock_state", GAUGE, MERGE, "The guest's current config lock (for types 'qemu' and 'lxc')") \
  FAMILY(PVE_HA_STATE, "pve_ha_state", GAUGE, MERGE, "HA service status (for HA managed VMs).") \
  FAMILY(PVE_DISK_SIZE_BYTES, "pve_disk_size_bytes", GAUGE, MERGE, "Storage size in bytes (for type 'storage'), root image size for VMs (for types 'qemu' and 'lxc').") \
  FAMILY(PVE_DISK_USAGE_BYTES, "pve_disk_usage_bytes", GAUGE, MERGE, "Used disk space in bytes (for type 'storage'), used root image space for VMs (for types 'qemu' and 'lxc').") \
  FAMILY(PVE_NET_RX_TOTAL, "pve_network_receive_bytes_total", COUNTER, MERGE, "The amount of traffic in bytes that was sent to the guest over the network since it was started. (for types 'qemu' and 'lxc')") \
  FAMILY(PVE_NET_TX_TOTAL, "pve_network_transmit_bytes_total", COUNTER, MERGE, "The amount of traffic in bytes that was sent from the guest over the network since it was started. (for types 'qemu' and 'lxc')") \
  FAMILY(PVE_DISK_READ_TOTAL, "pve_disk_read_bytes_total", COUNTER, MERGE, "The amount of bytes the guest read from its block devices since the guest was started. This info is not available for all storage types. (for types 'qemu' and 'lxc')") \
  FAMILY(PVE_DISK_WRITTEN_TOTAL, "pve_disk_written_bytes_total", COUNTER, MERGE, "The amount of bytes the guest wrote to its block devices since the guest was started. This info is not available for all storage types. (for types 'qemu' and 'lxc')") \
  FAMILY(PVE_NET_RX_DEPRECATED, "pve_network_receive_bytes", GAUGE, MERGE, "The amount of traffic in bytes that was sent to the guest over the network since it was started. (for types 'qemu' and 'lxc') DEPRECATED: Use pve_network_receive_bytes_total instead.") \
  FAMILY(PVE_NET_TX_DEPRECATED, "pve_network_transmit_bytes", GAUGE, MERGE, "The amount of traffic in bytes that was sent from the guest over the network since it was started. (for types 'qemu' and 'lxc') DEPRECATED: Use pve_network_transmit_bytes_total instead.") \
  FAMILY(PVE_DISK_READ_DEPRECATED, "pve_disk_read_bytes", GAUGE, MERGE, "The amount of bytes the guest read from its block devices since the guest was started. This info is not available for all storage types. (for types 'qemu' and 'lxc') DEPRECATED: Use pve_disk_read_bytes_total instead.") \
  FAMILY(PVE_DISK_WRITE_DEPRECATED, "pve_disk_write_bytes", GAUGE, MERGE, "The amount of bytes the guest wrote to its block devices since the guest was started. This info is not available for all storage types. (for types 'qemu' and 'lxc') DEPRECATED: Use pve_disk_written_bytes_total instead.") \
  FAMILY(PVE_CPU_USAGE_RATIO, "pve_cpu_usage_ratio", GAUGE, NODE, "CPU utilization (for types 'node', 'qemu' and 'lxc').") \
  FAMILY(PVE_CPU_USAGE_LIMIT, "pve_cpu_usage_limit", GAUGE, NODE, "Number of available CPUs (for types 'node', 'qemu' and 'lxc').") \
  FAMILY(PVE_MEMORY_USAGE_BYTES, "pve_memory_usage_bytes", GAUGE, NODE, "Used memory in bytes (for types 'node', 'qemu' and 'lxc').") \
  FAMILY(PVE_MEMORY_SIZE_BYTES, "pve_memory_size_bytes", GAUGE, NODE, "Number of available memory in bytes (for types 'node', 'qemu' and 'lxc').") \
  FAMILY(PVE_UPTIME_SECONDS, "pve_uptime_seconds", GAUGE, NODE, "Uptime of node or virtual guest in seconds (for types 'node', 'qemu' and 'lxc').") \
  FAMILY(GUEST_CPU_SECONDS, "pve_guest_cpu_seconds_total", COUNTER, MERGE, "CPU time of the guest's cgroup (all its processes) since it started.") \
  FAMILY(GUEST_MEMORY_LIMIT, "pve_guest_memory_limit_bytes", GAUGE, MERGE, "The guest cgroup's memory limit (memory.max); absent when unlimited.") \
  FAMILY(GUEST_SWAP_USAGE, "pve_guest_swap_usage_bytes", GAUGE, MERGE, "Swap used by the guest's cgroup.") \
  FAMILY(GUEST_NET_RX, "pve_guest_network_receive_bytes_total", COUNTER, MERGE, "Bytes sent to the guest through one of its NICs (host-side tap/veth transmit).") \
  FAMILY(GUEST_NET_TX, "pve_guest_network_transmit_bytes_total", COUNTER, MERGE, "Bytes sent by the guest through one of its NICs (host-side tap/veth receive).") \
  FAMILY(GUEST_NET_RX_DROP, "pve_guest_network_receive_drop_total", COUNTER, MERGE, "Packets to the guest dropped on the host side (tap/veth transmit drops).") \
  FAMILY(GUEST_NET_TX_DROP, "pve_guest_network_transmit_drop_total", COUNTER, MERGE, "Packets from the guest dropped on the host side (tap/veth receive drops).") \
  FAMILY(GUEST_DISK_READ, "pve_guest_disk_read_bytes_total", COUNTER, MERGE, "Bytes the guest read, per backing device, counted once (cgroup io.stat).") \
  FAMILY(GUEST_DISK_WRITTEN, "pve_guest_disk_written_bytes_total", COUNTER, MERGE, "Bytes the guest wrote, per backing device, counted once (cgroup io.stat).") \
  FAMILY(GUEST_PSI_CPU_WAITING, "pve_guest_pressure_cpu_waiting_seconds_total", COUNTER, MERGE, "Time some of the guest's tasks waited for a CPU (cgroup cpu.pressure some).") \
  FAMILY(GUEST_PSI_IO_WAITING, "pve_guest_pressure_io_waiting_seconds_total", COUNTER, MERGE, "Time some of the guest's tasks waited for I/O (cgroup io.pressure some).") \
  FAMILY(GUEST_PSI_IO_STALLED, "pve_guest_pressure_io_stalled_seconds_total", COUNTER, MERGE, "Time all of the guest's tasks were stalled on I/O (cgroup io.pressure full).") \
  FAMILY(GUEST_PSI_MEM_WAITING, "pve_guest_pressure_memory_waiting_seconds_total", COUNTER, MERGE, "Time some of the guest's tasks waited for memory (cgroup memory.pressure some).") \
  FAMILY(GUEST_PSI_MEM_STALLED, "pve_guest_pressure_memory_stalled_seconds_total", COUNTER, MERGE, "Time all of the guest's tasks were stalled on memory (cgroup memory.pressure full).") \
  FAMILY(NODE_CPU_SECONDS, "pve_node_cpu_seconds_total", COUNTER, NODE, "CPU time of all CPUs of the node by mode, from /proc/stat (user and nice include guest time).") \
  FAMILY(NODE_CPU_GUEST_SECONDS, "pve_node_cpu_guest_seconds_total", COUNTER, NODE, "CPU time of all CPUs spent running guests (the part of user/nice that is guest time).") \
  FAMILY(NODE_CPU_IOWAIT_RATIO, "pve_node_cpu_iowait_ratio", GAUGE, NODE, "Fraction of CPU time spent in iowait over the agent's last interval.") \
  FAMILY(NODE_LOAD1, "pve_node_load1", GAUGE, NODE, "1-minute load average.") \
  FAMILY(NODE_LOAD5, "pve_node_load5", GAUGE, NODE, "5-minute load average.") \
  FAMILY(NODE_LOAD15, "pve_node_load15", GAUGE, NODE, "15-minute load average.") \
  FAMILY(NODE_MEM_AVAILABLE, "pve_node_memory_available_bytes", GAUGE, NODE, "MemAvailable: memory available for new work without swapping.") \
  FAMILY(NODE_MEM_FREE, "pve_node_memory_free_bytes", GAUGE, NODE, "MemFree: memory not used at all.") \
  FAMILY(NODE_MEM_BUFFERS, "pve_node_memory_buffers_bytes", GAUGE, NODE, "Buffers from /proc/meminfo.") \
  FAMILY(NODE_MEM_CACHED, "pve_node_memory_cached_bytes", GAUGE, NODE, "Cached (page cache) from /proc/meminfo.") \
  FAMILY(NODE_SWAP_SIZE, "pve_node_swap_size_bytes", GAUGE, NODE, "SwapTotal.") \
  FAMILY(NODE_SWAP_USAGE, "pve_node_swap_usage_bytes", GAUGE, NODE, "SwapTotal minus SwapFree.") \
  FAMILY(NODE_BOOT_TIME, "pve_node_boot_time_seconds", GAUGE, NODE, "Node boot time, seconds since the Unix epoch.") \
  FAMILY(NODE_CTXT, "pve_node_context_switches_total", COUNTER, NODE, "Context switches since boot.") \
  FAMILY(NODE_FORKS, "pve_node_forks_total", COUNTER, NODE, "Processes and threads created since boot.") \
  FAMILY(NODE_PROCS_RUNNING, "pve_node_procs_running", GAUGE, NODE, "Runnable tasks.") \
  FAMILY(NODE_PROCS_BLOCKED, "pve_node_procs_blocked", GAUGE, NODE, "Tasks blocked on I/O.") \
  FAMILY(NODE_PSI_CPU_WAITING, "pve_node_pressure_cpu_waiting_seconds_total", COUNTER, NODE, "Time some runnable tasks waited for a CPU (PSI cpu some).") \
  FAMILY(NODE_PSI_IO_WAITING, "pve_node_pressure_io_waiting_seconds_total", COUNTER, NODE, "Time some tasks waited for I/O (PSI io some).") \
  FAMILY(NODE_PSI_IO_STALLED, "pve_node_pressure_io_stalled_seconds_total", COUNTER, NODE, "Time all non-idle tasks were stalled on I/O (PSI io full).") \
  FAMILY(NODE_PSI_MEM_WAITING, "pve_node_pressure_memory_waiting_seconds_total", COUNTER, NODE, "Time some tasks waited for memory (PSI memory some).") \
  FAMILY(NODE_PSI_MEM_STALLED, "pve_node_pressure_memory_stalled_seconds_total", COUNTER, NODE, "Time all non-idle tasks were stalled on memory (PSI memory full).") \
  FAMILY(DISK_READS, "pve_node_disk_reads_completed_total", COUNTER, NODE, "Reads completed, per whole disk or dm device.") \
  FAMILY(DISK_READS_MERGED, "pve_node_disk_reads_merged_total", COUNTER, NODE, "Adjacent reads merged.") \
  FAMILY(DISK_READ_BYTES, "pve_node_disk_read_bytes_total", COUNTER, NODE, "Bytes read.") \
  FAMILY(DISK_READ_TIME, "pve_node_disk_read_time_seconds_total", COUNTER, NODE, "Time spent on reads.") \
  FAMILY(DISK_WRITES, "pve_node_disk_writes_completed_total", COUNTER, NODE, "Writes completed.") \
  FAMILY(DISK_WRITES_MERGED, "pve_node_disk_writes_merged_total", COUNTER, NODE, "Adjacent writes merged.") \
  FAMILY(DISK_WRITTEN_BYTES, "pve_node_disk_written_bytes_total", COUNTER, NODE, "Bytes written.") \
  FAMILY(DISK_WRITE_TIME, "pve_node_disk_write_time_seconds_total", COUNTER, NODE, "Time spent on writes.") \
  FAMILY(DISK_IO_NOW, "pve_node_disk_io_now", GAUGE, NODE, "I/Os currently in progress.") \
  FAMILY(DISK_IO_TIME, "pve_node_disk_io_time_seconds_total", COUNTER, NODE, "Time the device had I/O in flight (busy time).") \
  FAMILY(DISK_IO_WEIGHTED, "pve_node_disk_io_time_weighted_seconds_total", COUNTER, NODE, "I/O time weighted by the number of I/Os in flight.") \
  FAMILY(DISK_DISCARDS, "pve_node_disk_discards_completed_total", COUNTER, NODE, "Discards completed.") \
  FAMILY(DISK_DISCARDS_MERGED, "pve_node_disk_discards_merged_total", COUNTER, NODE, "Adjacent discards merged.") \
  FAMILY(DISK_DISCARDED_BYTES, "pve_node_disk_discarded_bytes_total", COUNTER, NODE, "Bytes discarded.") \
  FAMILY(DISK_DISCARD_TIME, "pve_node_disk_discard_time_seconds_total", COUNTER, NODE, "Time spent on discards.") \
  FAMILY(DISK_FLUSHES, "pve_node_disk_flush_requests_total", COUNTER, NODE, "Flush requests completed.") \
  FAMILY(DISK_FLUSH_TIME, "pve_node_disk_flush_requests_time_seconds_total", COUNTER, NODE, "Time spent on flush requests.") \
  FAMILY(DISK_DM_INFO, "pve_node_disk_device_mapper_info", GAUGE, NODE, "Name of a device-mapper device (dm-N), value 1.") \
  FAMILY(NET_RX_BYTES, "pve_node_network_receive_bytes_total", COUNTER, NODE, "Bytes received, per node interface.") \
  FAMILY(NET_RX_PACKETS, "pve_node_network_receive_packets_total", COUNTER, NODE, "Packets received.") \
  FAMILY(NET_RX_ERRS, "pve_node_network_receive_errs_total", COUNTER, NODE, "Receive errors.") \
  FAMILY(NET_RX_DROP, "pve_node_network_receive_drop_total", COUNTER, NODE, "Received packets dropped.") \
  FAMILY(NET_RX_FIFO, "pve_node_network_receive_fifo_total", COUNTER, NODE, "Receive FIFO overruns.") \
  FAMILY(NET_RX_FRAME, "pve_node_network_receive_frame_total", COUNTER, NODE, "Receive framing errors.") \
  FAMILY(NET_RX_COMPRESSED, "pve_node_network_receive_compressed_total", COUNTER, NODE, "Compressed packets received.") \
  FAMILY(NET_RX_MULTICAST, "pve_node_network_receive_multicast_total", COUNTER, NODE, "Multicast packets received.") \
  FAMILY(NET_TX_BYTES, "pve_node_network_transmit_bytes_total", COUNTER, NODE, "Bytes transmitted, per node interface.") \
  FAMILY(NET_TX_PACKETS, "pve_node_network_transmit_packets_total", COUNTER, NODE, "Packets transmitted.") \
  FAMILY(NET_TX_ERRS, "pve_node_network_transmit_errs_total", COUNTER, NODE, "Transmit errors.") \
  FAMILY(NET_TX_DROP, "pve_node_network_transmit_drop_total", COUNTER, NODE, "Transmitted packets dropped.") \
  FAMILY(NET_TX_FIFO, "pve_node_network_transmit_fifo_total", COUNTER, NODE, "Transmit FIFO errors.") \
  FAMILY(NET_TX_COLLS, "pve_node_network_transmit_colls_total", COUNTER, NODE, "Collisions.") \
  FAMILY(NET_TX_CARRIER, "pve_node_network_transmit_carrier_total", COUNTER, NODE, "Carrier losses.") \
  FAMILY(NET_TX_COMPRESSED, "pve_node_network_transmit_compressed_total", COUNTER, NODE, "Compressed packets transmitted.") \
  FAMILY(NVME_INFO, "pve_nvme_info", GAUGE, NODE, "NVMe controller identity (sysfs), value 1.") \
  FAMILY(NVME_UP, "pve_nvme_up", GAUGE, NODE, "1 when the agent read the controller's SMART/health log this cycle, else 0.") \
  FAMILY(NVME_TEMPERATURE, "pve_nvme_temperature_celsius", GAUGE, NODE, "Composite temperature of the NVMe controller (SMART log, Kelvin - 273.15).") \
  FAMILY(NVME_TEMP_WARNING, "pve_nvme_temperature_warning_threshold_celsius", GAUGE, NODE, "Warning composite temperature threshold (Identify Controller WCTEMP).") \
  FAMILY(NVME_TEMP_CRITICAL, "pve_nvme_temperature_critical_threshold_celsius", GAUGE, NODE, "Critical composite temperature threshold (Identify Controller CCTEMP).") \
  FAMILY(NVME_CRITICAL_WARNING, "pve_nvme_critical_warning", GAUGE, NODE, "SMART critical warning bitmask; 0 when the drive raises no warning.") \
  FAMILY(NVME_CRITICAL_WARNING_FLAG, "pve_nvme_critical_warning_flag", GAUGE, NODE, "One SMART critical warning bit, 1 when set.") \
  FAMILY(NVME_SPARE, "pve_nvme_available_spare_ratio", GAUGE, NODE, "Remaining spare capacity (percent / 100).") \
  FAMILY(NVME_SPARE_THRESHOLD, "pve_nvme_available_spare_threshold_ratio", GAUGE, NODE, "Available spare below which the drive raises the spare warning (percent / 100).") \
  FAMILY(NVME_PERCENTAGE_USED, "pve_nvme_percentage_used_ratio", GAUGE, NODE, "Vendor estimate of the endurance used (percent / 100); may exceed 1.") \
  FAMILY(NVME_DATA_READ, "pve_nvme_data_read_bytes_total", COUNTER, NODE, "Data read by the host (data units of 512000 bytes, rounded up by the drive).") \
  FAMILY(NVME_DATA_WRITTEN, "pve_nvme_data_written_bytes_total", COUNTER, NODE, "Data written by the host (data units of 512000 bytes, rounded up by the drive).") \
  FAMILY(NVME_HOST_READS, "pve_nvme_host_read_commands_total", COUNTER, NODE, "Read commands completed by the controller.") \
  FAMILY(NVME_HOST_WRITES, "pve_nvme_host_write_commands_total", COUNTER, NODE, "Write commands completed by the controller.") \
  FAMILY(NVME_BUSY, "pve_nvme_controller_busy_seconds_total", COUNTER, NODE, "Time the controller was busy with I/O commands (reported in minutes).") \
  FAMILY(NVME_POWER_CYCLES, "pve_nvme_power_cycles_total", COUNTER, NODE, "Power cycles of the drive.") \
  FAMILY(NVME_POWER_ON, "pve_nvme_power_on_seconds_total", COUNTER, NODE, "Power-on time of the drive (reported in hours).") \
  FAMILY(NVME_UNSAFE_SHUTDOWNS, "pve_nvme_unsafe_shutdowns_total", COUNTER, NODE, "Shutdowns without a shutdown notification to the controller.") \
  FAMILY(NVME_MEDIA_ERRORS, "pve_nvme_media_errors_total", COUNTER, NODE, "Unrecovered data integrity errors.") \
  FAMILY(NVME_ERROR_LOG_ENTRIES, "pve_nvme_error_log_entries_total", COUNTER, NODE, "Error Information log entries over the life of the controller.") \
  FAMILY(NVME_WARNING_TEMP_TIME, "pve_nvme_warning_temperature_seconds_total", COUNTER, NODE, "Time the composite temperature was at or above the warning threshold (reported in minutes).") \
  FAMILY(NVME_CRITICAL_TEMP_TIME, "pve_nvme_critical_temperature_seconds_total", COUNTER, NODE, "Time the composite temperature was at or above the critical threshold (reported in minutes).") \
  FAMILY(THINPOOL_INFO, "pve_thinpool_info", GAUGE, NODE, "An LVM thin pool (dm thin-pool target) on the node, value 1; dm_name is its device-mapper name.") \
  FAMILY(THINPOOL_UP, "pve_thinpool_up", GAUGE, NODE, "1 when the thin pool's device-mapper status was read and parsed.") \
  FAMILY(THINPOOL_DATA_USED, "pve_thinpool_data_used_bytes", GAUGE, NODE, "Data space of the thin pool in use (used data blocks times the block size).") \
  FAMILY(THINPOOL_DATA_SIZE, "pve_thinpool_data_size_bytes", GAUGE, NODE, "Data space of the thin pool (total data blocks times the block size).") \
  FAMILY(THINPOOL_META_USED, "pve_thinpool_metadata_used_bytes", GAUGE, NODE, "Metadata space of the thin pool in use (4 KiB blocks).") \
  FAMILY(THINPOOL_META_SIZE, "pve_thinpool_metadata_size_bytes", GAUGE, NODE, "Metadata space of the thin pool (4 KiB blocks).") \
  FAMILY(THINPOOL_BLOCK_SIZE, "pve_thinpool_block_size_bytes", GAUGE, NODE, "Data block (chunk) size of the thin pool.") \
  FAMILY(THINPOOL_TRANSACTION, "pve_thinpool_transaction_id", GAUGE, NODE, "Metadata transaction id of the thin pool (LVM bumps it on every thin LV change).") \
  FAMILY(THINPOOL_MODE, "pve_thinpool_mode", GAUGE, NODE, "Mode of the thin pool, 1 for the current one: rw, ro, out_of_data_space, fail, error.") \
  FAMILY(THINPOOL_NEEDS_CHECK, "pve_thinpool_needs_check", GAUGE, NODE, "1 when the kernel flagged the pool's metadata for thin_check.") \
  FAMILY(THINPOOL_ERROR_IF_NO_SPACE, "pve_thinpool_error_if_no_space", GAUGE, NODE, "1 when writes fail at once on a full pool, 0 when they queue.") \
  FAMILY(THINVOL_SIZE, "pve_thinpool_volume_size_bytes", GAUGE, NODE, "Size of an active thin volume.") \
  FAMILY(THINVOL_MAPPED, "pve_thinpool_volume_mapped_bytes", GAUGE, NODE, "Pool space mapped by an active thin volume.") \
  FAMILY(SENSOR_CHIP_INFO, "pve_sensor_chip_info", GAUGE, NODE, "An lm-sensors chip as sensors(1) names it, with its adapter, value 1.") \
  FAMILY(SENSOR_TEMP, "pve_sensor_temperature_celsius", GAUGE, NODE, "Temperature reading of an lm-sensors chip.") \
  FAMILY(SENSOR_TEMP_MIN, "pve_sensor_temperature_min_celsius", GAUGE, NODE, "Low temperature limit of the sensor.") \
  FAMILY(SENSOR_TEMP_MAX, "pve_sensor_temperature_max_celsius", GAUGE, NODE, "High temperature limit of the sensor.") \
  FAMILY(SENSOR_TEMP_CRIT, "pve_sensor_temperature_crit_celsius", GAUGE, NODE, "Critical high temperature limit of the sensor.") \
  FAMILY(SENSOR_TEMP_LCRIT, "pve_sensor_temperature_lcrit_celsius", GAUGE, NODE, "Critical low temperature limit of the sensor.") \
  FAMILY(SENSOR_FAN, "pve_sensor_fan_rpm", GAUGE, NODE, "Fan speed.") \
  FAMILY(SENSOR_FAN_MIN, "pve_sensor_fan_min_rpm", GAUGE, NODE, "Low fan speed limit.") \
  FAMILY(SENSOR_FAN_MAX, "pve_sensor_fan_max_rpm", GAUGE, NODE, "High fan speed limit.") \
  FAMILY(SENSOR_VOLT, "pve_sensor_voltage_volts", GAUGE, NODE, "Voltage reading, after the sensors configuration's compute lines.") \
  FAMILY(SENSOR_VOLT_MIN, "pve_sensor_voltage_min_volts", GAUGE, NODE, "Low voltage limit.") \
  FAMILY(SENSOR_VOLT_MAX, "pve_sensor_voltage_max_volts", GAUGE, NODE, "High voltage limit.") \
  FAMILY(SENSOR_VOLT_CRIT, "pve_sensor_voltage_crit_volts", GAUGE, NODE, "Critical high voltage limit.") \
  FAMILY(SENSOR_VOLT_LCRIT, "pve_sensor_voltage_lcrit_volts", GAUGE, NODE, "Critical low voltage limit.") \
  FAMILY(SENSOR_POWER, "pve_sensor_power_watts", GAUGE, NODE, "Power reading (the instantaneous input, else the driver's average).") \
  FAMILY(SENSOR_POWER_MAX, "pve_sensor_power_max_watts", GAUGE, NODE, "High power limit.") \
  FAMILY(SENSOR_POWER_CRIT, "pve_sensor_power_crit_watts", GAUGE, NODE, "Critical high power limit.") \
  FAMILY(SENSOR_CURR, "pve_sensor_current_amperes", GAUGE, NODE, "Current reading.") \
  FAMILY(SENSOR_CURR_MIN, "pve_sensor_current_min_amperes", GAUGE, NODE, "Low current limit.") \
  FAMILY(SENSOR_CURR_MAX, "pve_sensor_current_max_amperes", GAUGE, NODE, "High current limit.") \
  FAMILY(SENSOR_CURR_CRIT, "pve_sensor_current_crit_amperes", GAUGE, NODE, "Critical high current limit.") \
  FAMILY(SENSOR_ENERGY, "pve_sensor_energy_joules_total", COUNTER, NODE, "Energy consumed, as the chip counts it.") \
  FAMILY(SENSOR_HUMIDITY, "pve_sensor_humidity_ratio", GAUGE, NODE, "Relative humidity, 0..1.") \
  FAMILY(SENSOR_ALARM, "pve_sensor_alarm", GAUGE, NODE, "1 when any alarm flag of the sensor is set (limit crossed), else 0.") \
  FAMILY(SENSOR_FAULT, "pve_sensor_fault", GAUGE, NODE, "1 when the chip flags the sensor as faulty (open diode, stopped fan), else 0.") \
  FAMILY(SENSOR_READ_ERRORS, "pve_sensor_read_errors", GAUGE, NODE, "Values of the sensor (input, limits, flags) that could not be read in the agent's last cycle.") \
  FAMILY(ZFS_POOL_STATE, "pve_zfs_pool_state", GAUGE, NODE, "ZFS pool state from its kstat: one series per known state, 1 for the current one.") \
  FAMILY(ZFS_POOL_ARC_READS, "pve_zfs_pool_arc_reads_total", COUNTER, NODE, "Reads of the pool served through the ARC (iostats arc_read_count).") \
  FAMILY(ZFS_POOL_ARC_READ_BYTES, "pve_zfs_pool_arc_read_bytes_total", COUNTER, NODE, "Bytes read from the pool through the ARC (iostats arc_read_bytes).") \
  FAMILY(ZFS_POOL_ARC_WRITES, "pve_zfs_pool_arc_writes_total", COUNTER, NODE, "Writes to the pool through the ARC (iostats arc_write_count).") \
  FAMILY(ZFS_POOL_ARC_WRITE_BYTES, "pve_zfs_pool_arc_write_bytes_total", COUNTER, NODE, "Bytes written to the pool through the ARC (iostats arc_write_bytes).") \
  FAMILY(ZFS_ARC_SIZE, "pve_zfs_arc_size_bytes", GAUGE, NODE, "Current size of the node's ZFS ARC (arcstats size).") \
  FAMILY(ZFS_ARC_MIN, "pve_zfs_arc_min_bytes", GAUGE, NODE, "Lower bound of the ARC size (arcstats c_min).") \
  FAMILY(ZFS_ARC_MAX, "pve_zfs_arc_max_bytes", GAUGE, NODE, "Upper bound of the ARC size (arcstats c_max, zfs_arc_max).") \
  FAMILY(ZFS_ARC_HITS, "pve_zfs_arc_hits_total", COUNTER, NODE, "ARC hits since the module was loaded (arcstats hits).") \
  FAMILY(ZFS_ARC_MISSES, "pve_zfs_arc_misses_total", COUNTER, NODE, "ARC misses since the module was loaded (arcstats misses).") \
  FAMILY(SELF_COLLECTOR_SUCCESS, "pvescope_collector_success", GAUGE, NODE, "1 when the agent's collector succeeded in its last cycle.") \
  FAMILY(SELF_COLLECTOR_DURATION, "pvescope_collector_duration_seconds", GAUGE, NODE, "Time the agent's collector took in its last cycle.") \
  FAMILY(SELF_COLLECTOR_ERRORS, "pvescope_collector_errors_total", COUNTER, NODE, "Failed cycles of the agent's collector since the agent started.") \
  FAMILY(SELF_COLLECTOR_WARNINGS, "pvescope_collector_warnings_total", COUNTER, NODE, "Successful cycles in which the agent's collector skipped bad input (malformed rows).") \
  FAMILY(SELF_AGENT_INFO, "pvescope_agent_info", GAUGE, NODE, "Agent version, value 1.") \
  FAMILY(SELF_AGENT_CPU, "pvescope_agent_cpu_seconds_total", COUNTER, NODE, "CPU time (user+system) used by the agent process.") \
  FAMILY(SELF_AGENT_RSS, "pvescope_agent_resident_memory_bytes", GAUGE, NODE, "Resident memory of the agent process.") \
  FAMILY(SELF_AGENT_START, "pvescope_agent_start_time_seconds", GAUGE, NODE, "Agent start time, seconds since the Unix epoch.") \
  FAMILY(SELF_AGENT_SENT, "pvescope_agent_reports_sent_total", COUNTER, NODE, "Reports the agent handed to the transport, per aggregator endpoint.") \
  FAMILY(SELF_AGENT_DROPPED, "pvescope_agent_reports_dropped_total", COUNTER, NODE, "Reports the agent dropped because the endpoint could not take them.") \
  FAMILY(SELF_AGENT_OVERSIZE, "pvescope_agent_reports_oversize_total", COUNTER, NODE, "Reports the agent did not send because they exceeded --max-message-bytes.") \
  FAMILY(SELF_NODE_AGE, "pvescope_node_report_age_seconds", GAUGE, DYN, "Seconds since the aggregator accepted the node's last report.") \
  FAMILY(SELF_NODE_ACCEPTED, "pvescope_node_reports_accepted_total", COUNTER, DYN, "Reports accepted from the node since the aggregator started.") \
  FAMILY(SELF_RECEIVED, "pvescope_reports_received_total", COUNTER, DYN, "Messages received on the ingest socket.") \
  FAMILY(SELF_REJECTED, "pvescope_reports_rejected_total", COUNTER, DYN, "Messages rejected at ingest, by reason.") \
  FAMILY(SELF_CLOSED_CONN, "pvescope_ingest_connections_closed_total", COUNTER, DYN, "Ingest connections that ended: agents restarting or exiting, and connections nanomsg cut for a message over 4x --ingest.max-message-bytes.") \
  FAMILY(SELF_HTTP_REJECTED, "pvescope_http_requests_rejected_total", COUNTER, DYN, "HTTP requests refused by the web config's guards, by reason (only with TLS client certificates or basic auth).") \
  FAMILY(SELF_HTTP_GZIP_FAILED, "pvescope_http_gzip_failures_total", COUNTER, DYN, "gzip /metrics responses whose compression failed, served uncompressed instead.") \
  FAMILY(SELF_BUILD_INFO, "pvescope_build_info", GAUGE, DYN, "Aggregator version, value 1.") \
  FAMILY(RW_SAMPLES, "pvescope_remote_write_samples_total", COUNTER, DYN, "Samples for a remote_write endpoint, by result: sent (accepted), failed (refused with a 4xx), dropped (queue full or shutdown).") \
  FAMILY(RW_REQUESTS, "pvescope_remote_write_requests_total", COUNTER, DYN, "remote_write requests by HTTP status code; code=\"error\" when no answer came, \"other\" past 8 distinct codes.") \
  FAMILY(RW_RETRIES, "pvescope_remote_write_retries_total", COUNTER, DYN, "remote_write requests that are repeated after a 5xx, a 429 or no answer.") \
  FAMILY(RW_BYTES, "pvescope_remote_write_sent_bytes_total", COUNTER, DYN, "Compressed remote_write request bodies the endpoint accepted.") \
  FAMILY(RW_QUEUE, "pvescope_remote_write_queue_batches", GAUGE, DYN, "remote_write batches waiting for the endpoint, the one being sent included.") \
  FAMILY(RW_LAST_SUCCESS, "pvescope_remote_write_last_success_timestamp_seconds", GAUGE, DYN, "When the endpoint last accepted a request, seconds since the Unix epoch; 0 before the first.")

enum family_id {
#define FAMILY_ENUM(id, name, type, source, help) FAM_##id,
    PVESCOPE_FAMILIES(FAMILY_ENUM)
#undef FAMILY_ENUM
    FAM__COUNT
};
