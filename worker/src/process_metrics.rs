//! The standard `process_*` metrics, read from `/proc` at each scrape
//! (Linux; elsewhere they are left out).

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric};
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

/// Clock ticks per second of `/proc/self/stat` times (USER_HZ, 100 on Linux).
const TICKS_PER_SECOND: f64 = 100.0;

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
        let proc_file = |name: &str| std::fs::read_to_string(format!("/proc/{process}/{name}"));
        let stat = proc_file("stat").ok()?;
        // Fields after the command name, which is in parentheses and may hold spaces.
        let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
        let number = |i: usize| fields.get(i).and_then(|f| f.parse::<f64>().ok());
        let status = proc_file("status").ok()?;
        let kib = |key: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|rest| rest.split_whitespace().next()?.parse::<f64>().ok())
                .map(|kib| kib * 1024.0)
        };
        let boot_time = std::fs::read_to_string("/proc/stat").ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("btime ")?.trim().parse::<f64>().ok())
        });
        let max_fds = proc_file("limits").ok().and_then(|limits| {
            let line = limits.lines().find(|l| l.starts_with("Max open files"))?;
            line.split_whitespace().nth(3)?.parse::<f64>().ok()
        });
        Some(ProcessStats {
            // utime and stime are the 12th and 13th fields after the command.
            cpu_seconds: (number(11)? + number(12)?) / TICKS_PER_SECOND,
            resident_bytes: kib("VmRSS:")?,
            peak_resident_bytes: kib("VmHWM:")?,
            virtual_bytes: kib("VmSize:")?,
            open_fds: std::fs::read_dir(format!("/proc/{process}/fd")).map_or(0, |d| d.count())
                as f64,
            max_fds,
            start_time_seconds: boot_time
                .zip(number(19))
                .map(|(boot, start)| boot + start / TICKS_PER_SECOND),
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
