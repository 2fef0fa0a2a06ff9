// The per-message operations of PerMessageBenchmarks in a plain loop, for valgrind or perf
// (see README.md):  PerMessageLoop canonical|route|forward|chain COUNT [source dialect]
import PerMessageFixture

#if canImport(Glibc)
@preconcurrency import Glibc
#endif

let arguments = CommandLine.arguments
guard arguments.count >= 3, let count = Int(arguments[2]) else {
    fputs("usage: PerMessageLoop decode|canonical|decide|route|forward|chain COUNT [iso87binary|iso87ascii]\n", stderr)
    exit(2)
}
let fixture = try PerMessageFixture(source: arguments.count > 3 ? arguments[3] : "iso87binary")
var sink = 0
switch arguments[1] {
case "decode":
    for _ in 0..<count { sink &+= try fixture.decode().fieldNumbers.count }
case "canonical":
    for _ in 0..<count { sink &+= try fixture.canonical().unmapped.count }
case "decide":
    for _ in 0..<count { sink &+= fixture.decide(fixture.payment).count }
case "route":
    for _ in 0..<count { sink &+= fixture.route(fixture.payment).candidates.count }
case "forward":
    for _ in 0..<count { sink &+= try fixture.forward(fixture.payment).count }
case "chain":
    for _ in 0..<count { sink &+= try fixture.chain().1.count }
default:
    fputs("unknown operation \(arguments[1])\n", stderr)
    exit(2)
}
print(sink)
