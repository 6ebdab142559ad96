// Compute: the same C program run as a SIP and as a Linux process.
//
// Each kernel in guests/compute is built three times from one source: clang
// -O2 to wasm32-wasi, installed (wasm2c, then the system C compiler at -O2)
// and run as a WASI SIP; gcc -O2 (the system compiler, which also compiles
// images) to a static Linux executable; and clang -O2 (the compiler that made
// the wasm) to another. The shared driver (compute_main.h) runs the work once
// to warm up, then times each repetition with clock_gettime(CLOCK_MONOTONIC)
// inside the program, so the "fastest rep" rows exclude startup (and, being the
// fastest, preemption by other processes); the "whole run" row times the
// program from spawn to exit (median).
#include "bench/Benchmarks.h"
#include "bench/NativeProcess.h"
#include "kernel/sched/Preemption.h"

#include <functional>
#include <sstream>

namespace signet::bench {

namespace {

struct ProgramOutput {
    std::vector<double> repetitions; // ns
    std::string checksum;
    uint64_t wall_ns { 0 };
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

// One way of running a kernel, and what its runs produced.
struct Side {
    std::string name; // "sip", "gcc", "clang"
    std::function<ErrorOr<ProgramOutput>()> run;
    std::vector<double> work;
    std::vector<double> whole;
    std::string checksum;
};

ErrorOr<ProgramOutput> run_sip(SipHost& sips, std::shared_ptr<Image> const& image, std::vector<std::string> const& args, size_t repetitions)
{
    auto run = TRY(sips.run(image, args));
    if (run.exit.how != ExitInfo::How::Exited || run.exit.status != 0)
        return Error(ErrorKind::Internal, "the SIP " + describe_exit(run.exit));
    auto output = TRY(parse_output(run.out, repetitions));
    output.wall_ns = run.wall_ns;
    return output;
}

ErrorOr<ProgramOutput> run_native(std::string const& program, std::vector<std::string> const& args, size_t repetitions)
{
    auto run = TRY(run_process(program, args));
    if (run.exit_status != 0)
        return Error(ErrorKind::Internal, program + " exited with " + std::to_string(run.exit_status));
    auto output = TRY(parse_output(run.out, repetitions));
    output.wall_ns = run.wall_ns;
    return output;
}

} // namespace

void run_compute_bench(BenchContext& context)
{
    Report& report = context.report;
    size_t const runs = context.quick ? 1 : 5;
    size_t const repetitions = context.quick ? 3 : 9;
    report.section("compute: " + std::to_string(runs) + " runs per side of each program, each timing " + std::to_string(repetitions)
        + " repetitions of its work after one warm-up");

    for (auto const& kernel : compute_kernels()) {
        auto image = context.image(kernel);
        std::vector<std::string> args { kernel, std::to_string(repetitions) };
        std::vector<Side> sides;
        sides.push_back({ "sip", [&] { return run_sip(context.sips, image, args, repetitions); }, {}, {}, {} });
        sides.push_back({ "gcc", [&] { return run_native(native_program(kernel), args, repetitions); }, {}, {}, {} });
        sides.push_back({ "clang", [&] { return run_native(native_program("clang_" + kernel), args, repetitions); }, {}, {}, {} });

        // Alternate the sides, so that a slow phase of the VM hits all of them alike.
        uint64_t const signals_before = Preemption::signals_sent();
        uint64_t const preemptions_before = Preemption::preemptions();
        bool failed = false;
        for (size_t run = 0; run < runs && !failed; ++run) {
            for (auto& side : sides) {
                auto output = side.run();
                if (output.is_error()) {
                    report.failure(kernel + " (" + side.name + "): " + output.error().message());
                    failed = true;
                    break;
                }
                auto& value = output.value();
                side.work.insert(side.work.end(), value.repetitions.begin(), value.repetitions.end());
                side.whole.push_back(double(value.wall_ns));
                side.checksum = value.checksum;
            }
        }
        if (failed)
            continue;
        for (auto const& side : sides) {
            if (side.checksum != sides.front().checksum) {
                report.failure(kernel + ": the SIP computed " + sides.front().checksum + ", " + side.name + " " + side.checksum);
                failed = true;
            }
        }
        if (failed)
            continue;

        auto& sip = sides[0];
        auto sip_work = Stats::of(sip.work);
        report.detail(kernel + " work, sip:   " + format_stats(sip_work) + "  (checksum " + sip.checksum + " on every side)");
        // A SIP that computes for a whole quantum is preempted (and, alone, resumed at once):
        // a cost Linux processes pay in their own way, counted here so it is visible.
        report.detail("  preemption during the SIP runs: " + std::to_string(Preemption::signals_sent() - signals_before) + " signals, "
            + std::to_string(Preemption::preemptions() - preemptions_before) + " preemptions");
        for (size_t i = 1; i < sides.size(); ++i) {
            auto native_work = Stats::of(sides[i].work);
            report.detail(kernel + " work, " + sides[i].name + (sides[i].name.size() < 5 ? ":   " : ": ") + format_stats(native_work));
            char ratios[128];
            std::snprintf(ratios, sizeof ratios, "  sip/%s: fastest repetitions %.2fx, medians %.2fx", sides[i].name.c_str(),
                sip_work.min / native_work.min, sip_work.median / native_work.median);
            report.detail(ratios);
            // The table compares the fastest repetitions: see Statistic::Minimum.
            report.add({ .name = "compute " + kernel + " (fastest rep) vs " + sides[i].name,
                .linux_label = sides[i].name + " -O2, static",
                .signet = sip_work,
                .linux_side = native_work,
                .goal = Goal::SignetNoSlower,
                .target = 1.5,
                .note = {},
                .statistic = Statistic::Minimum });
        }
        report.add({ .name = "compute " + kernel + " (whole run) vs gcc",
            .linux_label = "posix_spawn..waitpid",
            .signet = Stats::of(sip.whole),
            .linux_side = Stats::of(sides[1].whole),
            .goal = Goal::SignetNoSlower,
            .target = 0,
            .note = {},
            .statistic = Statistic::Median });
    }
}

} // namespace signet::bench
