// Compute: the same C program run as a SIP and as a Linux process.
//
// Each kernel in guests/compute is built twice from one source: clang -O2 to
// wasm32-wasi, installed (wasm2c, then the system C compiler at -O2) and run
// as a WASI SIP; and gcc -O2 to a static Linux executable. The shared driver
// (compute_main.h) runs the work once to warm up, then times each repetition
// with clock_gettime(CLOCK_MONOTONIC) inside the program, so the "work" rows
// exclude startup; the "whole run" rows time the program from spawn to exit.
#include "bench/Benchmarks.h"
#include "bench/NativeProcess.h"

#include <sstream>

namespace signet::bench {

namespace {

struct ProgramOutput {
    std::vector<double> repetitions; // ns
    std::string checksum;
};

ErrorOr<ProgramOutput> parse_output(std::string const& text, size_t expected_repetitions)
{
    ProgramOutput output;
    std::istringstream lines(text);
    std::string word;
    while (lines >> word) {
        if (word == "rep") {
            uint64_t ns = 0;
            if (!(lines >> ns))
                break;
            output.repetitions.push_back(double(ns));
        } else if (word == "checksum") {
            lines >> output.checksum;
        }
    }
    if (output.repetitions.size() != expected_repetitions || output.checksum.empty())
        return Error::invalid("unexpected output: '" + text + "'");
    return output;
}

} // namespace

void run_compute_bench(BenchContext& context)
{
    Report& report = context.report;
    size_t const runs = context.quick ? 1 : 3;
    size_t const repetitions = context.quick ? 3 : 9;
    report.section("compute: " + std::to_string(runs) + " runs per side of each program, each timing " + std::to_string(repetitions)
        + " repetitions of its work after one warm-up");

    for (auto const& kernel : compute_kernels()) {
        auto image = context.image(kernel);
        std::vector<std::string> args { kernel, std::to_string(repetitions) };
        std::vector<double> sip_work, native_work, sip_whole, native_whole;
        std::string sip_checksum, native_checksum;
        bool failed = false;
        // Alternate the two sides, so that a slow phase of the VM hits both alike.
        for (size_t run = 0; run < runs && !failed; ++run) {
            auto sip = context.sips.run(image, args);
            if (sip.is_error() || sip.value().exit.how != ExitInfo::How::Exited || sip.value().exit.status != 0) {
                report.failure(kernel + " as a SIP: " + (sip.is_error() ? sip.error().message() : describe_exit(sip.value().exit)));
                failed = true;
                break;
            }
            auto native = run_process(native_program(kernel), args);
            if (native.is_error() || native.value().exit_status != 0) {
                report.failure(kernel + " on Linux: "
                    + (native.is_error() ? native.error().message() : "exited with " + std::to_string(native.value().exit_status)));
                failed = true;
                break;
            }
            auto sip_output = parse_output(sip.value().out, repetitions);
            auto native_output = parse_output(native.value().out, repetitions);
            if (sip_output.is_error() || native_output.is_error()) {
                report.failure(kernel + ": " + (sip_output.is_error() ? sip_output.error() : native_output.error()).message());
                failed = true;
                break;
            }
            sip_work.insert(sip_work.end(), sip_output.value().repetitions.begin(), sip_output.value().repetitions.end());
            native_work.insert(native_work.end(), native_output.value().repetitions.begin(), native_output.value().repetitions.end());
            sip_whole.push_back(double(sip.value().wall_ns));
            native_whole.push_back(double(native.value().wall_ns));
            sip_checksum = sip_output.value().checksum;
            native_checksum = native_output.value().checksum;
        }
        if (failed)
            continue;
        if (sip_checksum != native_checksum) {
            report.failure(kernel + ": the SIP computed " + sip_checksum + ", Linux " + native_checksum);
            continue;
        }
        auto sip_stats = Stats::of(sip_work);
        auto native_stats = Stats::of(native_work);
        report.detail(kernel + " work, sip:   " + format_stats(sip_stats));
        report.detail(kernel + " work, linux: " + format_stats(native_stats) + "  (checksum " + native_checksum + " on both)");
        // Preemption by other processes only ever adds time: on a busy machine the fastest
        // repetitions are the better estimate of the work itself.
        char fastest[128];
        std::snprintf(fastest, sizeof fastest, "%s work, fastest repetitions: sip/linux = %.2fx", kernel.c_str(), sip_stats.min / native_stats.min);
        report.detail(fastest);
        report.add({ .name = "compute " + kernel + " (work)",
            .linux_label = "gcc -O2, static",
            .signet = sip_stats,
            .linux_side = native_stats,
            .goal = Goal::SignetNoSlower,
            .target = 1.5,
            .note = {} });
        report.add({ .name = "compute " + kernel + " (whole run)",
            .linux_label = "posix_spawn..waitpid",
            .signet = Stats::of(sip_whole),
            .linux_side = Stats::of(native_whole),
            .goal = Goal::SignetNoSlower,
            .target = 0,
            .note = {} });
    }
}

} // namespace signet::bench
