//! `pgpipe`: every pgpipe tool in one program. Run as `pgpipe TOOL [ARGS]`
//! or through a link named `pgpipe-TOOL`; see [`pgpipe::tool::dispatch`].

fn main() {
    pgpipe::tool::dispatch(std::env::args_os().collect())
}
