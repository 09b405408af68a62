import RunsheetCLI

@main
struct Entrypoint {
    static func main() {
        RunsheetMain.run()
    }
}
