import Foundation
import RunsheetTestSupport
import Testing

/// A date option's errors name a format, not an example date that has already passed (an
/// `--until 2026-10-01` is refused as past), and a year of five digits is refused. Found by the adversary.
@Suite struct DateOptionWordingTests {
    @Test func aFiveDigitYearIsRefused() throws {
        let dir = try HaltTests().repository()
        let result = try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "INC-1", "--until", "02027-01-01"], directory: dir)
        #expect(result.status == 2 && result.stderr == "runsheet: --until '02027-01-01' is not a date: its year has 5 digits, not 4; write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)\n",
                "\(result.status) \(result.stdout)\(result.stderr)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent(".runsheet/halts.jsonl").path), "nothing was written")
    }

    @Test func theHintNamesAFormatNotAPastDate() throws {
        let dir = try HaltTests().repository()
        for bad in ["tomorrow", "2027-02-30"] {
            let result = try Fixtures.runsheet(["halt", "--as", "rita", "--reason", "INC-1", "--until", bad], directory: dir)
            #expect(result.status == 2 && result.stderr.contains("write it as YYYY-MM-DD or YYYY-MM-DDTHH:MM:SSZ (UTC)") && !result.stderr.contains("2026-10-01"),
                    "\(bad): \(result.stderr)")
        }
    }
}
