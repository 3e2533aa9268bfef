// No console window on Windows in release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

// Exports decode millions of small strings; mimalloc cut the allocator's share of that CPU
// time several-fold compared with the system allocator (perf, see bench/export.sh).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    jhe_engine::init_process_defaults();
    jhe_desktop::run();
}
