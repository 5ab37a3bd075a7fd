//! What a node exporter's exposition says about its host: CPU time, memory, the fullest real
//! filesystem and load.

use super::exposition::Sample;

/// Filesystems that are not disks: in memory, layered, read-only images, kernel views. Every
/// snap mount (squashfs) reads 100% used, and an overlay repeats the disk beneath it.
const NOT_DISKS: &[&str] = &[
    "tmpfs",
    "devtmpfs",
    "ramfs",
    "overlay",
    "squashfs",
    "nsfs",
    "proc",
    "sysfs",
    "cgroup",
    "cgroup2",
    "autofs",
    "fuse.lxcfs",
    "fuse.snapfuse",
    "iso9660",
    "devfs",
    "efivarfs",
    "tracefs",
    "debugfs",
    "securityfs",
    "pstore",
    "bpf",
    "binfmt_misc",
    "hugetlbfs",
    "mqueue",
    "rpc_pipefs",
    "configfs",
    "fusectl",
    "nullfs",
];

/// Whether a filesystem type is a disk's, not one of [`NOT_DISKS`].
pub fn is_disk(fstype: &str) -> bool {
    !NOT_DISKS.contains(&fstype)
}

/// One filesystem's size and what is left of it for unprivileged users.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Filesystem {
    pub mountpoint: String,
    pub size: f64,
    pub avail: f64,
}

impl Filesystem {
    /// Used share, 0..1, as `df` counts it for users (`avail`, not `free`: root's reserve is used).
    pub fn used(&self) -> f64 {
        if self.size <= 0.0 { 0.0 } else { (1.0 - self.avail / self.size).clamp(0.0, 1.0) }
    }
}

/// A host's numbers from one scrape; counters are cumulative.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct HostSample {
    /// CPU seconds, summed over CPUs: idle, and all modes.
    pub cpu_idle: f64,
    pub cpu_total: f64,
    pub cpus: u32,
    pub mem_total: Option<f64>,
    pub mem_available: Option<f64>,
    /// The fullest real filesystem.
    pub fullest: Option<Filesystem>,
    pub load1: Option<f64>,
}

impl HostSample {
    /// Memory in use, 0..1: what the kernel could not hand out without swapping.
    pub fn memory_used(&self) -> Option<f64> {
        let (total, avail) = (self.mem_total?, self.mem_available?);
        (total > 0.0).then(|| (1.0 - avail / total).clamp(0.0, 1.0))
    }

    /// Load per CPU.
    pub fn load_per_cpu(&self) -> Option<f64> {
        Some(self.load1? / f64::from(self.cpus.max(1)))
    }
}

/// Folds node exporter samples into one host sample as the exposition is read.
#[derive(Debug, Default)]
pub struct HostReader {
    sample: HostSample,
    seen: bool,
    cpus: Vec<String>,
    /// Per mountpoint: (fstype ok, size, avail).
    filesystems: Vec<(String, Option<f64>, Option<f64>)>,
}

impl HostReader {
    /// Takes the sample if it is one of the node exporter's; returns whether it was.
    pub fn read(&mut self, s: &Sample<'_>) -> bool {
        let Some(rest) = s.name.strip_prefix("node_") else { return false };
        match rest {
            "cpu_seconds_total" => {
                let mode = s.labels.get("mode");
                self.sample.cpu_total += s.value;
                if mode.as_deref() == Some("idle") {
                    self.sample.cpu_idle += s.value;
                }
                if let Some(cpu) = s.labels.get("cpu")
                    && !self.cpus.iter().any(|c| *c == cpu)
                {
                    self.cpus.push(cpu.into_owned());
                }
            }
            "memory_MemTotal_bytes" => self.sample.mem_total = Some(s.value),
            "memory_MemAvailable_bytes" => self.sample.mem_available = Some(s.value),
            "load1" => self.sample.load1 = Some(s.value),
            "filesystem_size_bytes" | "filesystem_avail_bytes" => {
                let fstype = s.labels.get("fstype").unwrap_or_default();
                if !is_disk(fstype.as_ref()) {
                    return true;
                }
                let Some(mount) = s.labels.get("mountpoint") else { return true };
                let i = match self.filesystems.iter().position(|(m, ..)| *m == mount) {
                    Some(i) => i,
                    None => {
                        self.filesystems.push((mount.into_owned(), None, None));
                        self.filesystems.len() - 1
                    }
                };
                let fs = &mut self.filesystems[i];
                if rest == "filesystem_size_bytes" {
                    fs.1 = Some(s.value);
                } else {
                    fs.2 = Some(s.value);
                }
            }
            _ => return false,
        }
        self.seen = true;
        true
    }

    /// The host's sample, if the exposition had any node exporter numbers.
    pub fn finish(mut self) -> Option<HostSample> {
        if !self.seen {
            return None;
        }
        self.sample.cpus = self.cpus.len() as u32;
        self.sample.fullest = (self.filesystems.into_iter())
            .filter_map(|(mountpoint, size, avail)| Some(Filesystem { mountpoint, size: size?, avail: avail? }))
            .filter(|f| f.size > 0.0)
            .max_by(|a, b| a.used().total_cmp(&b.used()));
        Some(self.sample)
    }
}
