import ArgumentParser

/// The payswitch command line: one binary, one subcommand per job.
@main
struct Payswitch: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "payswitch",
        abstract: "An ISO 8583 / ISO 20022 payment message switch and its tools.",
        subcommands: [ISO8583Command.self, ISO20022Command.self, TranslateCommand.self, RulesCommand.self, TransportCommand.self, SimCommand.self,
                      ServeCommand.self, ConfigCommand.self, JournalCommand.self, ReconCommand.self, ReconcileCommand.self, KeysCommand.self, PINCommand.self, MACCommand.self, DemoCommand.self, ReplayCommand.self, CaptureCommand.self]
    )
}
