//! `electsim`: thin entry point; everything lives in the library.
fn main() {
    std::process::exit(electsim::cli::main());
}
