//! Helpers shared by the integration tests.

#![allow(dead_code)]

/// A small deterministic generator (xorshift): the tests replay the same "random" runs.
pub struct Rng(pub u64);

impl Rng {
    /// A number below `n` (0 when `n` is 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// A count from an environment variable (the long versions of the soak tests), else
/// `default`.
pub fn env_count(var: &str, default: usize) -> usize {
    std::env::var(var)
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(default)
}

/// Run the `walia` binary in `dir` (without `$WALIA_HEAP`): stdout, stderr, exit code.
pub fn walia_in(dir: &std::path::Path, args: &[&str]) -> (String, String, Option<i32>) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_walia"))
        .args(args)
        .current_dir(dir)
        .env_remove("WALIA_HEAP")
        .output()
        .expect("run walia");
    texts(out)
}

/// Run `code` with `walia -e` on heap `h.wld` in `dir`, requiring success; its output.
pub fn run_on_heap(dir: &std::path::Path, code: &str) -> String {
    let (out, err, status) = walia_in(dir, &["--heap", "h.wld", "-e", code]);
    assert_eq!(status, Some(0), "{code}: {err}");
    out
}

/// A finished process's stdout, stderr and exit code.
pub fn texts(out: std::process::Output) -> (String, String, Option<i32>) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    )
}

/// crc32 (IEEE), bitwise: the test does not depend on the crate the heap uses.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        crc ^= b as u32;
        for _ in 0..8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// Which pipeline execution a run uses (SPEC §11): every `walia run` case runs in each.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exec {
    /// The default: native loops where the pipeline allows them, else stage kernels
    /// (`WALIA_JIT` removed from the environment).
    Default,
    /// `WALIA_JIT=0`: every pipeline runs in the interpreter.
    Interpreter,
    /// `WALIA_JIT=kernels`: batch kernels, no native code.
    Kernels,
    /// `WALIA_JIT_BAIL=2`: native loops, but every second page or range chunk bails to the
    /// kernels (exercises the fallback chain).
    Bail,
}

impl Exec {
    pub fn label(self) -> &'static str {
        match self {
            Exec::Default => "default",
            Exec::Interpreter => "interpreter, WALIA_JIT=0",
            Exec::Kernels => "kernels, WALIA_JIT=kernels",
            Exec::Bail => "native with bails, WALIA_JIT_BAIL=2",
        }
    }

    /// Set up `cmd`'s environment for this execution.
    pub fn apply(self, cmd: &mut std::process::Command) {
        cmd.env_remove("WALIA_JIT").env_remove("WALIA_JIT_BAIL");
        match self {
            Exec::Default => {}
            Exec::Interpreter => {
                cmd.env("WALIA_JIT", "0");
            }
            Exec::Kernels => {
                cmd.env("WALIA_JIT", "kernels");
            }
            Exec::Bail => {
                cmd.env("WALIA_JIT_BAIL", "2");
            }
        }
    }
}
