//! walia-jit: Walia's native loop. It compiles a pipeline's typed plan
//! (`walia_runtime::api::native::ir::NPlan`) to one machine-code function with Cranelift,
//! and registers itself with the runtime through [`install`].
//!
//! The runtime does not depend on this crate: only the `walia` binary (and embedders who
//! want compiled pipelines) link it, so the test executables of the other crates never
//! carry Cranelift. Where Cranelift is not available (not Linux on x86_64 or aarch64),
//! [`install`] does nothing and the batch kernels run every pipeline.

#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod codegen;
#[cfg(all(
    target_os = "linux",
    any(target_arch = "x86_64", target_arch = "aarch64")
))]
mod shims;

#[cfg(all(target_os = "linux", target_arch = "x86_64", feature = "aarch64-check"))]
pub use codegen::lower_for_aarch64;

/// Register the Cranelift compiler for every VM of this process (no effect where
/// Cranelift is unavailable, or when a compiler is already registered).
pub fn install() {
    #[cfg(all(
        target_os = "linux",
        any(target_arch = "x86_64", target_arch = "aarch64")
    ))]
    walia_runtime::api::native::install(&codegen::CRANELIFT);
}
