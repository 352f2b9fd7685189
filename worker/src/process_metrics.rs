//! The standard `process_*` metrics, read from `/proc` (with `procfs`) at
//! each scrape, off the async runtime (Linux; elsewhere they are left out).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Adds `process_cpu_seconds_total`, `process_resident_memory_bytes`,
/// `process_virtual_memory_bytes`, `process_open_fds`, `process_max_fds`
/// and `process_start_time_seconds` to a registry.
#[derive(Debug, Default)]
pub struct ProcessCollector;

/// One reading of the process's figures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ProcessStats {
    pub cpu_seconds: f64,
    pub resident_bytes: f64,
    /// The most resident memory so far (`VmHWM`).
    pub peak_resident_bytes: f64,
    pub virtual_bytes: f64,
    pub open_fds: f64,
    pub max_fds: Option<f64>,
    pub start_time_seconds: Option<f64>,
}

impl ProcessStats {
    /// Reads `/proc/self`; `None` where it is not available.
    pub fn read() -> Option<ProcessStats> {
        ProcessStats::of("self")
    }

    /// Reads `/proc/<process>`, where `process` is `self` or a process id.
    pub fn of(process: &str) -> Option<ProcessStats> {
        use procfs::process::{LimitValue, Process};
        let process = match process {
            "self" => Process::myself(),
            pid => Process::new(pid.parse().ok()?),
        }
        .ok()?;
        let stat = process.stat().ok()?;
        let status = process.status().ok()?;
        let ticks = procfs::ticks_per_second() as f64;
        let max_fds =
            process
                .limits()
                .ok()
                .and_then(|limits| match limits.max_open_files.soft_limit {
                    LimitValue::Value(n) => Some(n as f64),
                    LimitValue::Unlimited => None,
                });
        let kib = |value: Option<u64>| value.map(|kib| kib as f64 * 1024.0);
        Some(ProcessStats {
            cpu_seconds: (stat.utime + stat.stime) as f64 / ticks,
            resident_bytes: kib(status.vmrss)?,
            peak_resident_bytes: kib(status.vmhwm)?,
            virtual_bytes: stat.vsize as f64,
            open_fds: process.fd_count().map_or(0.0, |n| n as f64),
            max_fds,
            start_time_seconds: procfs::boot_time_secs()
                .ok()
                .map(|boot| boot as f64 + stat.starttime as f64 / ticks),
        })
    }
}

impl Collector for ProcessCollector {
    fn encode(&self, mut encoder: DescriptorEncoder) -> Result<(), std::fmt::Error> {
        let Some(stats) = ProcessStats::read() else {
            return Ok(());
        };
        let cpu = ConstCounter::new(stats.cpu_seconds);
        cpu.encode(encoder.encode_descriptor(
            "process_cpu_seconds",
            "User and system CPU time spent, in seconds",
            None,
            cpu.metric_type(),
        )?)?;
        let gauges = [
            (
                "process_resident_memory_bytes",
                "Resident memory size in bytes",
                Some(stats.resident_bytes),
            ),
            (
                "process_virtual_memory_bytes",
                "Virtual memory size in bytes",
                Some(stats.virtual_bytes),
            ),
            (
                "process_open_fds",
                "Open file descriptors",
                Some(stats.open_fds),
            ),
            (
                "process_max_fds",
                "Maximum number of open file descriptors",
                stats.max_fds,
            ),
            (
                "process_start_time_seconds",
                "Start time of the process since the Unix epoch, in seconds",
                stats.start_time_seconds,
            ),
        ];
        for (name, help, value) in gauges {
            let Some(value) = value else { continue };
            let gauge = ConstGauge::new(value);
            gauge.encode(encoder.encode_descriptor(name, help, None, gauge.metric_type())?)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_plausible_figures() {
        let stats = ProcessStats::read().expect("/proc is readable on Linux");
        assert!(stats.resident_bytes > 1024.0 * 1024.0);
        assert!(stats.virtual_bytes >= stats.resident_bytes);
        assert!(stats.peak_resident_bytes >= stats.resident_bytes);
        assert!(stats.open_fds >= 3.0);
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs_f64();
        let started = stats.start_time_seconds.unwrap();
        assert!(
            started <= now + 1.0 && started > now - 86400.0 * 365.0,
            "{started} vs {now}"
        );
    }

    #[test]
    fn a_process_is_read_by_its_id_as_by_self() {
        let by_id = ProcessStats::of(&std::process::id().to_string()).expect("readable by pid");
        let by_self = ProcessStats::read().expect("readable as self");
        assert_eq!(by_id.start_time_seconds, by_self.start_time_seconds);
        assert_eq!(by_id.max_fds, by_self.max_fds);
        assert!(by_id.cpu_seconds <= by_self.cpu_seconds);
    }
}
