#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import XalorraCLI

exit(await CLI.main(Array(CommandLine.arguments.dropFirst())))
