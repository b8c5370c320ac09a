//! `harness`: chaos and load runs against DeepSeek API clients. All logic is
//! in the library; this only maps the result to an exit code.

fn main() -> std::process::ExitCode {
    harness::cli::main()
}
