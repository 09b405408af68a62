import RunsheetCLI

@main
struct Entrypoint {
    static func main() {
        Allocator.tune()
        RunsheetMain.run()
    }
}
