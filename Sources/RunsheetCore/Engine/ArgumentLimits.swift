import Foundation

/// What Linux accepts as a program's arguments and environment, checked before a command is
/// recorded as started: past these limits `execve` fails with E2BIG.
enum ArgumentLimits {
    /// `MAX_ARG_STRLEN`: one argument or `NAME=value` string, its terminating NUL included.
    static let perString = 32 * 4096

    /// What the kernel allows for all strings and their pointers together (`sysconf(_SC_ARG_MAX)`,
    /// a quarter of the stack limit), less room for what the C library and loader add.
    static var total: Int {
        let limit = sysconf(Int32(_SC_ARG_MAX))
        return (limit > 0 ? limit : 131_072) - 4096
    }

    /// When the kernel refused without a reason this check found.
    static let kernelRefused = "its arguments and environment together are longer"

    /// Throws `argumentsTooLong` naming the part that is too long.
    static func check(arguments: [String], environment: [String]) throws {
        for (index, argument) in arguments.enumerated() where argument.utf8.count + 1 > perString {
            // The last argument is the script (shell or supervisor alike).
            let what = index == arguments.count - 1 ? "the command text" : "argument \(index)"
            throw CommandRunnerError.argumentsTooLong("\(what) is \(argument.utf8.count) bytes, and one argument may be at most \(perString - 1)")
        }
        for entry in environment where entry.utf8.count + 1 > perString {
            let name = entry.split(separator: "=", maxSplits: 1).first.map(String.init) ?? entry
            throw CommandRunnerError.argumentsTooLong(
                "the value in \(name) is \(entry.utf8.count - name.utf8.count - 1) bytes, and one variable may be at most \(perString - 2 - name.utf8.count)")
        }
        let strings = (arguments + environment).reduce(0) { $0 + $1.utf8.count + 1 }
        let pointers = (arguments.count + environment.count + 2) * MemoryLayout<UnsafeRawPointer>.size
        if strings + pointers > total {
            throw CommandRunnerError.argumentsTooLong("its arguments and environment together are \(strings + pointers) bytes, and at most \(total) fit")
        }
    }
}
