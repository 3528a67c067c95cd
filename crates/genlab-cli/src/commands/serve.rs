//! `genlab serve`: the local web studio (genlab-studio) on the runs under a folder.

use anyhow::Result;
use std::net::IpAddr;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Folder of runs to show (searched three levels deep, as `genlab runs`).
    #[arg(long, default_value = "runs")]
    pub runs: PathBuf,
    /// Port to listen on (0: any free port, printed).
    #[arg(long, default_value_t = 7878)]
    pub port: u16,
    /// Address to listen on. Anything but loopback (127.0.0.1, ::1) needs --token.
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// A secret every request must carry (the printed address holds it).
    #[arg(long)]
    pub token: Option<String>,
}

pub fn run(args: Args) -> Result<()> {
    genlab_studio::serve(genlab_studio::Config {
        runs: args.runs,
        host: args.host,
        port: args.port,
        token: args.token,
        genlab: std::env::current_exe()?,
    })
}
