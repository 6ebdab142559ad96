#include "tests/spec/ScriptRunner.h"

#include "base/Hash.h"
#include "installer/VerifiedModule.h"
#include "installer/WasmFeatures.h"
#include "tests/spec/HostModules.h"
#include "tests/spec/ModuleInterface.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <dlfcn.h>
#include <mutex>
#include <optional>
#include <thread>

#include <wabt/binary-reader-nop.h>
#include <wabt/binary-reader.h>
#include <wabt/opcode.h>

namespace signet::spec {

namespace {

// --- What runs on the SIP's fiber -------------------------------------------

struct CallSlot {
    uint32_t export_index;
    uint64_t const* arguments;
    uint64_t* results;
};

// One SIP's work. The host thread fills it in, the fiber runs it, and the host
// reads it back once the SIP finished (Sip::wait_from_host orders the accesses).
struct BatchRun {
    DispatchFunction dispatch { nullptr };
    CallSlot const* calls { nullptr };
    size_t call_count { 0 };
    bool entered { false };  // instantiation finished: the host entry was reached
    size_t completed { 0 };  // calls that returned
    int dispatch_status { 0 };
};

// Runs on the SIP's fiber, below Kernel::thread_entry's _setjmp. A trap leaves
// through _longjmp, so nothing here may have a destructor; every store to `run`
// is made before the next opaque call and so survives a trap in it.
__attribute__((noinline)) void run_calls(void* instance, BatchRun* run)
{
    run->entered = true;
    for (size_t i = 0; i < run->call_count; ++i) {
        CallSlot const& call = run->calls[i];
        int status = run->dispatch(instance, call.export_index, call.arguments, call.results);
        if (status != DispatchOk) {
            run->dispatch_status = status;
            return;
        }
        run->completed = i + 1;
    }
}

// --- Values ----------------------------------------------------------------

ErrorOr<uint64_t> encode_argument(Value const& value)
{
    switch (value.type) {
    case ValueType::I32:
    case ValueType::F32:
        return value.bits & 0xffffffffu;
    case ValueType::I64:
    case ValueType::F64:
        return value.bits;
    case ValueType::ExternRef:
        // (ref.extern N) is the host reference N + 1, so that 0 stays null.
        return value.is_null ? 0 : value.bits + 1;
    case ValueType::FuncRef:
        if (!value.is_null)
            return Error::invalid("a non-null funcref argument cannot be passed");
        return 0;
    case ValueType::V128:
        break;
    }
    return Error::invalid(std::string("a ") + value_type_name(value.type) + " argument cannot be passed");
}

Value decode_result(ValueType type, uint64_t raw)
{
    Value value;
    value.type = type;
    switch (type) {
    case ValueType::I32:
    case ValueType::F32:
        value.bits = raw & 0xffffffffu;
        break;
    case ValueType::I64:
    case ValueType::F64:
    case ValueType::V128:
        value.bits = raw;
        break;
    case ValueType::ExternRef:
        value.is_null = raw == 0;
        value.bits = raw == 0 ? 0 : raw - 1;
        break;
    case ValueType::FuncRef:
        value.is_null = raw == 0;
        break;
    }
    return value;
}

bool matches(Value const& expected, Value const& actual)
{
    if (expected.type != actual.type)
        return false;
    switch (expected.type) {
    case ValueType::F32:
        if (expected.nan == NanPattern::Canonical)
            return (actual.bits & 0x7fffffffu) == 0x7fc00000u;
        if (expected.nan == NanPattern::Arithmetic)
            return (actual.bits & 0x7fc00000u) == 0x7fc00000u;
        return actual.bits == expected.bits;
    case ValueType::F64:
        if (expected.nan == NanPattern::Canonical)
            return (actual.bits & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
        if (expected.nan == NanPattern::Arithmetic)
            return (actual.bits & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
        return actual.bits == expected.bits;
    case ValueType::FuncRef:
        // An expected (ref.func) is any function.
        return expected.is_null == actual.is_null;
    case ValueType::ExternRef:
        return expected.is_null == actual.is_null && expected.bits == actual.bits;
    default:
        return actual.bits == expected.bits;
    }
}

std::string format_values(std::vector<Value> const& values)
{
    if (values.empty())
        return "nothing";
    std::string out;
    for (auto const& value : values) {
        if (!out.empty())
            out += " ";
        out += format_value(value);
    }
    return out;
}

// --- Traps -----------------------------------------------------------------

// The trap kind the reference interpreter's message stands for, as far as
// wasm2c distinguishes them: it reports every failed call_indirect check
// (index out of range, null entry, wrong type) as one kind.
std::optional<TrapKind> trap_kind_for(std::string const& text)
{
    struct Entry {
        char const* prefix;
        TrapKind kind;
    };
    static constexpr Entry entries[] = {
        { "integer divide by zero", TrapKind::DivideByZero },
        { "integer overflow", TrapKind::IntegerOverflow },
        { "invalid conversion to integer", TrapKind::InvalidConversion },
        { "unreachable", TrapKind::Unreachable },
        { "out of bounds", TrapKind::OutOfBounds },
        { "undefined element", TrapKind::BadIndirectCall },
        { "uninitialized element", TrapKind::BadIndirectCall },
        { "indirect call type mismatch", TrapKind::BadIndirectCall },
        { "call stack exhausted", TrapKind::StackExhausted },
    };
    for (auto const& entry : entries) {
        if (text.rfind(entry.prefix, 0) == 0)
            return entry.kind;
    }
    return {};
}

std::string describe_exit(ExitInfo const& exit)
{
    switch (exit.how) {
    case ExitInfo::How::Exited:
        return "exited";
    case ExitInfo::How::Trapped:
        return std::string("trapped: ") + trap_kind_description(exit.trap) + " [" + trap_kind_name(exit.trap) + "]";
    case ExitInfo::How::Killed:
        return "was killed: " + exit.detail;
    }
    return "?";
}

// A trap that matches `text`: nullopt, or why not.
std::optional<std::string> check_trap(ExitInfo const& exit, std::string const& text)
{
    if (exit.how != ExitInfo::How::Trapped)
        return describe_exit(exit) + ", expected a trap \"" + text + "\"";
    auto expected = trap_kind_for(text);
    if (expected && *expected != exit.trap)
        return describe_exit(exit) + ", expected \"" + text + "\" [" + trap_kind_name(*expected) + "]";
    return {};
}

// --- Refusals ----------------------------------------------------------------

constexpr char const* cross_module_reason = "imports from a registered module: cross-module linking is not supported";
constexpr char const* shared_state_reason = "its module is registered and shares state with a module that was skipped for cross-module linking";
constexpr char const* simd_reason = "SIMD (v128): Signet refuses it, wasm2c 1.0.32 cannot translate it";


// Why a valid module was refused, when the refusal is Signet's design rather
// than a bug: such modules and everything run on them are skipped.
std::optional<std::string> design_refusal(std::string const& message)
{
    struct Entry {
        char const* needle;
        char const* reason;
    };
    static constexpr Entry entries[] = {
        { "SIMD", simd_reason },
        { "Signet limits a memory to", "memory of 65536 pages: Signet's limit is 65535 (wasm_rt_memory_t's 32-bit byte size)" },
        { "at most one memory", "multiple memories: a SIP has one" },
        { "atomic", "threads and atomics: SIPs are single-threaded" },
        { "is shared", "shared memory: SIPs share nothing" },
        { "exception", "exception handling: not supported" },
        { "tail call", "tail calls: not supported" },
        { "memory64", "memory64: not supported" },
    };
    for (auto const& entry : entries) {
        if (message.find(entry.needle) != std::string::npos)
            return std::string(entry.reason);
    }
    return {};
}

// wabt 1.0.32's Opcode::IsEnabled leaves 80 SIMD instructions (v128.load8x8_s,
// i8x16.popcnt, ...) enabled with SIMD off, so the installer's verification lets
// a module using them through when no v128 appears in a signature, and wasm2c
// then aborts the whole process translating it. The harness must not install
// such a module; it reports it as a failure instead (docs/conformance.md).
class MissedSimdScanner final : public wabt::BinaryReaderNop {
public:
    bool OnError(wabt::Error const&) override { return true; }
    wabt::Result OnOpcode(wabt::Opcode opcode) override
    {
        if (m_found.empty() && opcode.GetPrefix() == 0xfd && opcode.IsEnabled(m_signet))
            m_found = opcode.GetName();
        return wabt::Result::Ok;
    }
    std::string const& found() const { return m_found; }

private:
    wabt::Features m_signet { installer::signet_features() };
    std::string m_found;
};

// Non-empty when installing `bytes` would hit that bug: the instruction it would die on.
std::string installer_abort_risk(std::vector<uint8_t> const& bytes, std::string const& name, installer::ImportPolicy const& policy)
{
    MissedSimdScanner scanner;
    wabt::Features features = installer::diagnostic_features();
    wabt::ReadBinaryOptions options(features, nullptr, false, true, false);
    (void)wabt::ReadBinary(bytes.data(), bytes.size(), &scanner, options);
    if (scanner.found().empty())
        return {};
    // Verification alone is safe; the abort comes after it, in translation.
    if (installer::VerifiedModule::verify(bytes, name, policy).is_error())
        return {};
    return scanner.found();
}

std::string first_line(std::string const& text)
{
    auto end = text.find('\n');
    return end == std::string::npos ? text : text.substr(0, end) + " [...]";
}

// Ends a SIP that runs longer than its deadline: a call that never returns
// (an infinite loop the optimizer made of a runaway recursion, say) must cost
// one failure, not the whole run. Kernel::kill stops spinning code through
// the scheduler's preemption.
class Watchdog {
public:
    explicit Watchdog(Kernel& kernel)
        : m_kernel(kernel)
        , m_thread([this] { loop(); })
    {
    }
    ~Watchdog()
    {
        {
            std::lock_guard guard(m_lock);
            m_stop = true;
        }
        m_changed.notify_all();
        m_thread.join();
    }

    void arm(std::shared_ptr<Sip> sip, std::chrono::steady_clock::duration limit)
    {
        std::lock_guard guard(m_lock);
        m_sip = std::move(sip);
        m_deadline = std::chrono::steady_clock::now() + limit;
        m_fired = false;
        m_changed.notify_all();
    }

    // Returns whether it killed the SIP.
    bool disarm()
    {
        std::lock_guard guard(m_lock);
        m_sip.reset();
        return m_fired;
    }

private:
    void loop()
    {
        std::unique_lock guard(m_lock);
        while (!m_stop) {
            if (!m_sip) {
                m_changed.wait(guard);
                continue;
            }
            if (m_changed.wait_until(guard, m_deadline) == std::cv_status::timeout && m_sip && std::chrono::steady_clock::now() >= m_deadline) {
                m_fired = true;
                m_kernel.kill(*m_sip);
                m_sip.reset();
            }
        }
    }

    Kernel& m_kernel;
    std::mutex m_lock;
    std::condition_variable m_changed;
    std::shared_ptr<Sip> m_sip;
    std::chrono::steady_clock::time_point m_deadline;
    bool m_fired { false };
    bool m_stop { false };
    std::thread m_thread;
};

class NullOutputStream final : public OutputStream {
public:
    ErrorOr<size_t> write(std::span<uint8_t const> bytes) override { return bytes.size(); }
};

// --- The script ------------------------------------------------------------

enum class ModuleStatus : uint8_t {
    Ready,
    Skipped, // by design or for want of cross-module linking: its commands are skipped too
    Failed,  // its commands fail too
};

// What phase 1 decided for one command that carries a module.
struct ModulePlan {
    std::string skip_reason;     // non-empty: do not install
    // Non-empty: installing would abort the process (see installer_abort_risk); do not install.
    std::string abort_risk;
    // Registered modules it imports from that have no stand-in: their state may
    // change through this module, which never runs.
    std::vector<std::string> unlinked_modules;
    std::string sha256;
    std::optional<ModuleInterface> interface;
    std::string interface_error; // why there is no interface
    std::vector<HostModule const*> host_modules; // what it may import from
    installer::InstallOptions options;
    std::optional<ErrorOr<installer::ImageInfo>> installed;
};

struct PreparedCall {
    size_t command { 0 };
    uint32_t export_index { 0 };
    std::vector<uint64_t> arguments;
    std::vector<ValueType> result_types;
};

struct ModuleRecord {
    size_t command { 0 };
    ModuleStatus status { ModuleStatus::Ready };
    std::string reason; // for Skipped and Failed
    // A Skipped module whose own command still fails (an installer bug kept it out).
    std::string install_failure;
    ModuleInterface const* interface { nullptr };
    std::shared_ptr<Image> image;
    DispatchFunction dispatch { nullptr };
    bool instantiation_checked { false };
    // Calls that completed, replayed into every new SIP of this module.
    std::vector<PreparedCall> history;
};

struct SipOutcome {
    std::optional<Error> error; // the SIP could not be started
    bool entered { false };
    size_t completed { 0 };
    int dispatch_status { 0 };
    ExitInfo exit;
};

class Execution {
public:
    Execution(Kernel& kernel, RunnerOptions const& options, WastScript const& script, std::string const& name)
        : m_kernel(kernel)
        , m_options(options)
        , m_commands(script.commands())
        , m_watchdog(kernel)
    {
        m_report.name = name;
    }

    FileReport run();

private:
    void plan();
    void install_all();
    void execute();

    void define_module(size_t index);
    void register_module(size_t index);
    void isolate_from(std::vector<std::string> const& registered_names);
    void queue_call(size_t index);
    void flush();
    void check_refused(size_t index);
    void check_uninstantiable(size_t index);

    // Installs (phase 2's result) and loads the module of command `index`.
    // On refusal: Skipped with the design reason, or Failed.
    ModuleRecord load(size_t index);
    SipOutcome run_in_sip(ModuleRecord const&, std::vector<CallSlot> const&, uint32_t line);
    void complete_call(PreparedCall const&, std::vector<uint64_t> const& results);
    void trap_call(PreparedCall const&, SipOutcome const&);

    ModuleRecord* find_module(std::string const& name);
    std::string location(size_t index) const { return m_report.name + ":" + std::to_string(m_commands[index].line); }
    void pass(size_t index);
    void fail(size_t index, std::string const& message);
    void skip(size_t index, std::string const& reason);

    Kernel& m_kernel;
    RunnerOptions const& m_options;
    std::vector<Command> const& m_commands;
    FileReport m_report;
    std::vector<std::pair<size_t, std::string>> m_failures; // by command index, sorted at the end

    std::map<size_t, ModulePlan> m_plans; // by command index
    Watchdog m_watchdog;

    std::vector<std::unique_ptr<ModuleRecord>> m_modules;
    ModuleRecord* m_current { nullptr };
    std::map<std::string, ModuleRecord*> m_named;
    std::map<std::string, ModuleRecord*> m_registered; // by the name modules import it as
    ModuleRecord* m_batch_module { nullptr };
    std::vector<PreparedCall> m_batch;
};

FileReport Execution::run()
{
    plan();
    install_all();
    execute();
    // Calls are judged when their batch runs, refusals at once: put them back in script order.
    std::stable_sort(m_failures.begin(), m_failures.end(), [](auto const& a, auto const& b) { return a.first < b.first; });
    std::set<std::string> failed;
    for (auto& [index, message] : m_failures) {
        failed.insert(location(index));
        m_report.failures.push_back(std::move(message));
    }
    // A known failure that passes or is skipped now must leave the list (and the docs).
    std::string const prefix = m_report.name + ":";
    for (auto const& known : m_options.known_failures) {
        if (known.starts_with(prefix) && !failed.contains(known))
            m_report.stale_known_failures.push_back(known);
    }
    return std::move(m_report);
}

bool carries_module(CommandKind kind)
{
    return kind == CommandKind::Module || kind == CommandKind::AssertInvalid || kind == CommandKind::AssertMalformed
        || kind == CommandKind::AssertUnlinkable || kind == CommandKind::AssertUninstantiable;
}

// Phase 1: for every module, whether it can be installed and with what. Tracks
// registrations so a module importing from a registered module gets that
// module's stand-in (HostModules.h), or is skipped when there is none.
void Execution::plan()
{
    std::vector<HostModule const*> available { find_host_module("spectest") };
    std::map<std::string, std::string> registered; // import name -> SHA-256 of the module registered under it
    std::string latest_sha256;
    std::map<std::string, std::string> named_sha256;

    for (size_t index = 0; index < m_commands.size(); ++index) {
        Command const& command = m_commands[index];
        if (command.kind == CommandKind::Register) {
            std::string const& sha256 = command.register_module.empty() ? latest_sha256 : named_sha256[command.register_module];
            registered[command.register_as] = sha256;
            if (HostModule const* stand_in = find_stand_in(command.register_as, sha256)) {
                std::erase_if(available, [&](HostModule const* module) { return module->name == stand_in->name; });
                available.push_back(stand_in);
            } else {
                std::erase_if(available, [&](HostModule const* module) { return module->name == command.register_as; });
                if (m_options.verbose)
                    std::printf("%s: module %s registered as \"%s\" has no stand-in\n", location(index).c_str(), sha256.c_str(), command.register_as.c_str());
            }
            continue;
        }
        if (!carries_module(command.kind))
            continue;

        ModulePlan plan;
        if (command.module.form == ModuleForm::Quoted) {
            plan.skip_reason = "malformed text (module quote): Signet installs binary modules only";
            m_plans.emplace(index, std::move(plan));
            continue;
        }
        plan.sha256 = sha256_hex(command.module.bytes);
        if (command.kind == CommandKind::Module) {
            latest_sha256 = plan.sha256;
            if (!command.module.name.empty())
                named_sha256[command.module.name] = plan.sha256;
        }
        auto interface = ModuleInterface::read(command.module.bytes);
        if (interface.is_error()) {
            plan.interface_error = interface.error().message();
        } else {
            plan.interface = interface.release_value();
            for (auto const& import : plan.interface->imports()) {
                auto it = registered.find(import.module);
                if (it != registered.end() && !find_stand_in(import.module, it->second)) {
                    plan.skip_reason = cross_module_reason;
                    if (std::find(plan.unlinked_modules.begin(), plan.unlinked_modules.end(), import.module) == plan.unlinked_modules.end())
                        plan.unlinked_modules.push_back(import.module);
                }
            }
        }
        plan.host_modules = available;
        plan.options = m_options.install;
        plan.options.policy = host_import_policy(available);
        if (plan.skip_reason.empty()) {
            if (auto risk = installer_abort_risk(command.module.bytes, location(index), plan.options.policy); !risk.empty()) {
                plan.abort_risk = "installer bug: verification accepts the SIMD instruction " + risk
                    + " and wasm2c would abort the process translating it (not installed)";
            }
        }
        if (command.kind == CommandKind::Module || command.kind == CommandKind::AssertUninstantiable) {
            if (plan.interface)
                plan.options.extra_c_source = plan.interface->dispatcher_source();
        }
        m_plans.emplace(index, std::move(plan));
    }
}

// Phase 2: install every module, on m_options.jobs threads. The C compiler is
// most of the time, and the store makes a second run cheap.
void Execution::install_all()
{
    std::vector<size_t> work;
    for (auto& [index, plan] : m_plans) {
        if (plan.skip_reason.empty() && plan.abort_risk.empty())
            work.push_back(index);
    }
    std::atomic<size_t> next { 0 };
    auto worker = [&] {
        for (;;) {
            size_t item = next.fetch_add(1);
            if (item >= work.size())
                return;
            size_t index = work[item];
            ModulePlan& plan = m_plans.at(index);
            plan.installed.emplace(installer::install_bytes(m_commands[index].module.bytes, location(index), plan.options));
        }
    };
    unsigned jobs = std::max(1u, std::min<unsigned>(m_options.jobs, static_cast<unsigned>(work.size())));
    std::vector<std::thread> threads;
    for (unsigned i = 1; i < jobs; ++i)
        threads.emplace_back(worker);
    worker();
    for (auto& thread : threads)
        thread.join();
}

// Phase 3: the commands in order.
void Execution::execute()
{
    for (size_t index = 0; index < m_commands.size(); ++index) {
        switch (m_commands[index].kind) {
        case CommandKind::Module:
            flush();
            define_module(index);
            break;
        case CommandKind::Register:
            register_module(index);
            break;
        case CommandKind::Action:
        case CommandKind::AssertReturn:
        case CommandKind::AssertTrap:
        case CommandKind::AssertExhaustion:
            queue_call(index);
            break;
        case CommandKind::AssertInvalid:
        case CommandKind::AssertMalformed:
        case CommandKind::AssertUnlinkable:
            check_refused(index);
            break;
        case CommandKind::AssertUninstantiable:
            flush();
            check_uninstantiable(index);
            break;
        case CommandKind::AssertException:
            skip(index, "exception handling: not supported");
            break;
        }
    }
    flush();
}

ModuleRecord Execution::load(size_t index)
{
    ModulePlan const& plan = m_plans.at(index);
    ModuleRecord module;
    module.command = index;
    if (!plan.skip_reason.empty()) {
        module.status = ModuleStatus::Skipped;
        module.reason = plan.skip_reason;
        return module;
    }
    if (!plan.abort_risk.empty()) {
        // Fixed, the installer would refuse it as SIMD: so are the commands on it.
        module.status = ModuleStatus::Skipped;
        module.reason = simd_reason;
        module.install_failure = plan.abort_risk;
        return module;
    }
    auto const& installed = *plan.installed;
    if (installed.is_error()) {
        std::string const& message = installed.error().message();
        auto reason = installed.error().kind() == ErrorKind::InvalidInput ? design_refusal(message) : std::nullopt;
        if (reason) {
            module.status = ModuleStatus::Skipped;
            module.reason = *reason;
        } else {
            module.status = ModuleStatus::Failed;
            module.reason = "refused at install: " + message;
        }
        return module;
    }
    if (!plan.interface) {
        module.status = ModuleStatus::Failed;
        module.reason = "installed, but the harness cannot read its exports: " + plan.interface_error;
        return module;
    }
    module.interface = &*plan.interface;
    if (auto linked = link_imports(*plan.interface, plan.host_modules); linked.is_error()) {
        module.status = ModuleStatus::Failed;
        module.reason = "cannot link: " + linked.error().message();
        return module;
    }
    auto const& info = installed.value();
    auto image = m_kernel.load_image(info.image_path, info.module_hash);
    if (image.is_error()) {
        module.status = ModuleStatus::Failed;
        module.reason = "cannot load the image: " + image.error().message();
        return module;
    }
    module.image = image.release_value();
    // The kernel mapped the image; this only finds it again (RTLD_NOLOAD) for dlsym.
    void* handle = ::dlopen(info.image_path.c_str(), RTLD_NOW | RTLD_NOLOAD);
    if (handle) {
        module.dispatch = reinterpret_cast<DispatchFunction>(::dlsym(handle, dispatcher_symbol));
        ::dlclose(handle);
    }
    if (!module.dispatch) {
        module.status = ModuleStatus::Failed;
        module.reason = std::string("the image has no ") + dispatcher_symbol;
    }
    return module;
}

void Execution::define_module(size_t index)
{
    auto record = std::make_unique<ModuleRecord>(load(index));
    ModuleRecord* module = record.get();
    m_modules.push_back(std::move(record));
    m_current = module;
    if (!m_commands[index].module.name.empty())
        m_named[m_commands[index].module.name] = module;
    switch (module->status) {
    case ModuleStatus::Skipped:
        if (module->install_failure.empty())
            skip(index, module->reason);
        else
            fail(index, module->install_failure);
        isolate_from(m_plans.at(index).unlinked_modules);
        break;
    case ModuleStatus::Failed:
        fail(index, module->reason);
        module->reason = "its module (line " + std::to_string(m_commands[index].line) + ") failed: " + first_line(module->reason);
        break;
    case ModuleStatus::Ready:
        // Instantiated (and passed or failed) with the first batch.
        m_batch_module = module;
        break;
    }
}

void Execution::register_module(size_t index)
{
    // Linking was resolved by plan(); this only remembers which module is which.
    Command const& command = m_commands[index];
    ModuleRecord* module = find_module(command.register_module);
    if (module)
        m_registered[command.register_as] = module;
}

// A module importing from these registered modules was skipped. It could have
// changed their tables, memories or globals (with segments, a start function,
// or later calls), so what the script expects of them afterwards is unknowable.
void Execution::isolate_from(std::vector<std::string> const& registered_names)
{
    for (auto const& name : registered_names) {
        auto it = m_registered.find(name);
        if (it == m_registered.end() || it->second->status != ModuleStatus::Ready)
            continue;
        if (m_batch_module == it->second)
            flush();
        it->second->status = ModuleStatus::Skipped;
        it->second->reason = shared_state_reason;
    }
}

ModuleRecord* Execution::find_module(std::string const& name)
{
    if (name.empty())
        return m_current;
    auto it = m_named.find(name);
    return it == m_named.end() ? nullptr : it->second;
}

void Execution::queue_call(size_t index)
{
    Command const& command = m_commands[index];
    ModuleRecord* module = find_module(command.action.module_name);
    if (!module) {
        fail(index, "no module to run " + format_action(command.action) + " on");
        return;
    }
    if (module->status == ModuleStatus::Skipped) {
        skip(index, module->reason);
        return;
    }
    if (module->status == ModuleStatus::Failed) {
        fail(index, module->reason);
        return;
    }
    if (command.kind == CommandKind::AssertReturn && command.expects_either) {
        skip(index, "(either ...) results: relaxed SIMD only");
        return;
    }

    PreparedCall call;
    call.command = index;
    auto export_index = module->interface->find_export(command.action.field);
    if (!export_index) {
        fail(index, "the module has no export \"" + command.action.field + "\"");
        return;
    }
    auto const& export_ = module->interface->exports()[*export_index];
    call.export_index = *export_index;
    call.result_types = export_.results;
    if (command.action.kind == ActionKind::Get) {
        if (export_.kind != ExternalKind::Global) {
            fail(index, "export \"" + command.action.field + "\" is not a global");
            return;
        }
    } else {
        if (export_.kind != ExternalKind::Function) {
            fail(index, "export \"" + command.action.field + "\" is not a function");
            return;
        }
        if (export_.parameters.size() != command.action.arguments.size()) {
            fail(index, "export \"" + command.action.field + "\" takes " + std::to_string(export_.parameters.size()) + " arguments, the script passes "
                    + std::to_string(command.action.arguments.size()));
            return;
        }
        for (size_t i = 0; i < export_.parameters.size(); ++i) {
            Value const& argument = command.action.arguments[i];
            if (argument.type != export_.parameters[i]) {
                fail(index, "argument " + std::to_string(i) + " is " + format_value(argument) + ", the export takes " + value_type_name(export_.parameters[i]));
                return;
            }
            auto encoded = encode_argument(argument);
            if (encoded.is_error()) {
                fail(index, encoded.error().message());
                return;
            }
            call.arguments.push_back(encoded.value());
        }
    }

    if (m_batch_module != module) {
        flush();
        m_batch_module = module;
    }
    m_batch.push_back(std::move(call));
}

SipOutcome Execution::run_in_sip(ModuleRecord const& module, std::vector<CallSlot> const& calls, uint32_t line)
{
    SipOutcome outcome;
    BatchRun run;
    run.dispatch = module.dispatch;
    run.calls = calls.data();
    run.call_count = calls.size();

    // Declared before the SIP, and the SIP is gone before this returns (below).
    HostInstance host_instance;
    std::string name = m_report.name + ":" + std::to_string(line);
    SpawnRequest request;
    request.image = module.image;
    request.name = name;
    request.args = { name };
    // The spec's memories may grow to 65536 pages; Signet's own limit (65535) applies.
    request.limits.memory_bytes = 4ull << 30;
    request.host_entry = [&run](Sip& sip) { run_calls(sip.instance(), &run); };
    auto sip = m_kernel.create_sip(std::move(request));
    if (sip.is_error()) {
        outcome.error = sip.release_error();
        return outcome;
    }
    attach_host_instance(sip.value().get(), &host_instance);
    if (auto started = m_kernel.start(*sip.value()); started.is_error()) {
        m_kernel.kill(*sip.value());
        (void)sip.value()->wait_from_host();
        m_kernel.wait_until_idle();
        detach_host_instance(sip.value().get());
        outcome.error = started.release_error();
        return outcome;
    }
    m_watchdog.arm(sip.value(), std::chrono::seconds(m_options.sip_time_limit_seconds));
    outcome.exit = sip.value()->wait_from_host();
    if (m_watchdog.disarm())
        outcome.exit.detail = "the harness's limit of " + std::to_string(m_options.sip_time_limit_seconds) + " s per SIP";
    // The kernel frees the SIP's tables (some of them in host_instance) after waking
    // waiters; this SIP is the only one, so "idle" means it has.
    m_kernel.wait_until_idle();
    detach_host_instance(sip.value().get());
    outcome.entered = run.entered;
    outcome.completed = run.completed;
    outcome.dispatch_status = run.dispatch_status;
    return outcome;
}

// Runs the queued calls on the batch module, in as many SIPs as traps require.
void Execution::flush()
{
    ModuleRecord* module = m_batch_module;
    m_batch_module = nullptr;
    std::vector<PreparedCall> pending = std::move(m_batch);
    m_batch.clear();
    if (!module)
        return;

    auto fail_remaining = [&](size_t from, std::string const& reason) {
        for (size_t i = from; i < pending.size(); ++i)
            fail(pending[i].command, reason);
    };

    size_t next = 0; // the first pending call not yet judged
    while (!module->instantiation_checked || next < pending.size()) {
        // 1. Lay out history (replayed, results ignored) then the pending calls.
        std::vector<PreparedCall const*> order;
        for (auto const& call : module->history)
            order.push_back(&call);
        for (size_t i = next; i < pending.size(); ++i)
            order.push_back(&pending[i]);
        std::vector<std::vector<uint64_t>> results(order.size());
        std::vector<CallSlot> slots;
        slots.reserve(order.size());
        for (size_t i = 0; i < order.size(); ++i) {
            results[i].assign(std::max<size_t>(order[i]->result_types.size(), 1), 0);
            slots.push_back({ order[i]->export_index, order[i]->arguments.data(), results[i].data() });
        }

        // 2. Run them in a fresh SIP.
        uint32_t line = next < pending.size() ? m_commands[pending[next].command].line : m_commands[module->command].line;
        SipOutcome outcome = run_in_sip(*module, slots, line);
        if (outcome.error) {
            std::string reason = "cannot run a SIP: " + outcome.error->message();
            if (!module->instantiation_checked)
                fail(module->command, reason);
            module->instantiation_checked = true;
            fail_remaining(next, reason);
            return;
        }

        // 3. Instantiation.
        if (!outcome.entered) {
            std::string reason = "instantiation " + describe_exit(outcome.exit);
            if (!module->instantiation_checked)
                fail(module->command, reason);
            else
                reason = "re-instantiation " + describe_exit(outcome.exit);
            module->instantiation_checked = true;
            module->status = ModuleStatus::Failed;
            module->reason = "its module (line " + std::to_string(m_commands[module->command].line) + ") failed: " + reason;
            fail_remaining(next, module->reason);
            return;
        }
        if (!module->instantiation_checked) {
            module->instantiation_checked = true;
            pass(module->command);
        }

        // 4. The replay must complete: the calls did before.
        size_t const replayed = module->history.size();
        if (outcome.completed < replayed) {
            auto const& diverged = *order[outcome.completed];
            module->status = ModuleStatus::Failed;
            module->reason = "replaying the call of line " + std::to_string(m_commands[diverged.command].line) + " into a new SIP "
                + describe_exit(outcome.exit);
            fail_remaining(next, module->reason);
            return;
        }

        // 5. Judge what returned, then what stopped the SIP.
        size_t const returned = outcome.completed - replayed;
        for (size_t i = 0; i < returned; ++i) {
            complete_call(pending[next + i], results[replayed + i]);
            module->history.push_back(pending[next + i]);
        }
        next += returned;
        if (next >= pending.size())
            break;
        if (outcome.dispatch_status != DispatchOk)
            fail(pending[next].command, "the dispatcher refused the call (status " + std::to_string(outcome.dispatch_status) + ")");
        else
            trap_call(pending[next], outcome);
        ++next;
    }
}

void Execution::complete_call(PreparedCall const& call, std::vector<uint64_t> const& raw)
{
    Command const& command = m_commands[call.command];
    std::vector<Value> actual;
    for (size_t i = 0; i < call.result_types.size(); ++i)
        actual.push_back(decode_result(call.result_types[i], raw[i]));
    switch (command.kind) {
    case CommandKind::Action:
        pass(call.command);
        return;
    case CommandKind::AssertReturn: {
        bool ok = actual.size() == command.expected.size();
        for (size_t i = 0; ok && i < actual.size(); ++i)
            ok = matches(command.expected[i], actual[i]);
        if (ok)
            pass(call.command);
        else
            fail(call.command, format_action(command.action) + ": got " + format_values(actual) + ", expected " + format_values(command.expected));
        return;
    }
    case CommandKind::AssertTrap:
    case CommandKind::AssertExhaustion:
        fail(call.command, format_action(command.action) + ": returned " + format_values(actual) + ", expected a trap \"" + command.text + "\"");
        return;
    default:
        VERIFY_NOT_REACHED();
    }
}

void Execution::trap_call(PreparedCall const& call, SipOutcome const& outcome)
{
    Command const& command = m_commands[call.command];
    switch (command.kind) {
    case CommandKind::Action:
    case CommandKind::AssertReturn:
        fail(call.command, format_action(command.action) + ": " + describe_exit(outcome.exit));
        return;
    case CommandKind::AssertTrap:
    case CommandKind::AssertExhaustion:
        if (auto mismatch = check_trap(outcome.exit, command.text))
            fail(call.command, format_action(command.action) + ": " + *mismatch);
        else
            pass(call.command);
        return;
    default:
        VERIFY_NOT_REACHED();
    }
}

// assert_invalid, assert_malformed and assert_unlinkable: verification must
// refuse the module (for unlinkable, its import policy may), or for
// unlinkable, link_imports must.
void Execution::check_refused(size_t index)
{
    Command const& command = m_commands[index];
    ModulePlan const& plan = m_plans.at(index);
    if (!plan.skip_reason.empty()) {
        skip(index, plan.skip_reason);
        return;
    }
    if (!plan.abort_risk.empty()) {
        fail(index, plan.abort_risk);
        return;
    }
    if (plan.installed->is_error()) {
        auto const& error = plan.installed->error();
        if (error.kind() != ErrorKind::InvalidInput) {
            // Refused, but by a later stage (the C compiler, say): verification let it through.
            fail(index, "verification accepted it, then the install failed: " + first_line(error.message()));
            return;
        }
        if (m_options.verbose)
            std::printf("%s: refused as expected (\"%s\"): %s\n", location(index).c_str(), command.text.c_str(), error.message().c_str());
        pass(index);
        return;
    }
    if (command.kind == CommandKind::AssertUnlinkable) {
        if (!plan.interface) {
            fail(index, "installed, but the harness cannot read its imports: " + plan.interface_error);
            return;
        }
        if (link_imports(*plan.interface, plan.host_modules).is_error()) {
            pass(index);
            return;
        }
    }
    fail(index, std::string("installed a module that ") + command_kind_name(command.kind) + " expects refused (\"" + command.text + "\")");
}

void Execution::check_uninstantiable(size_t index)
{
    ModuleRecord module = load(index);
    if (module.status == ModuleStatus::Skipped) {
        if (module.install_failure.empty())
            skip(index, module.reason);
        else
            fail(index, module.install_failure);
        isolate_from(m_plans.at(index).unlinked_modules);
        return;
    }
    if (module.status == ModuleStatus::Failed) {
        fail(index, module.reason);
        return;
    }
    SipOutcome outcome = run_in_sip(module, {}, m_commands[index].line);
    if (outcome.error) {
        fail(index, "cannot run a SIP: " + outcome.error->message());
        return;
    }
    if (outcome.entered) {
        fail(index, "instantiated, expected a trap \"" + m_commands[index].text + "\"");
        return;
    }
    if (auto mismatch = check_trap(outcome.exit, m_commands[index].text))
        fail(index, "instantiation " + *mismatch);
    else
        pass(index);
}

void Execution::pass(size_t)
{
    ++m_report.passed;
}

void Execution::fail(size_t index, std::string const& message)
{
    ++m_report.failed;
    bool known = m_options.known_failures.contains(location(index));
    if (known)
        ++m_report.known_failures;
    m_failures.emplace_back(index, location(index) + ": " + (known ? "known failure: " : "") + command_kind_name(m_commands[index].kind) + ": " + message);
}

void Execution::skip(size_t index, std::string const& reason)
{
    ++m_report.skipped;
    ++m_report.skip_reasons[reason];
    if (m_options.verbose)
        std::printf("%s: skipped %s: %s\n", location(index).c_str(), command_kind_name(m_commands[index].kind), reason.c_str());
}

} // namespace

ScriptRunner::ScriptRunner(Kernel& kernel, RunnerOptions options)
    : m_kernel(kernel)
    , m_options(std::move(options))
{
}

FileReport ScriptRunner::run(WastScript const& script, std::string const& name)
{
    Execution execution(m_kernel, m_options, script, name);
    return execution.run();
}

std::shared_ptr<OutputStream> quiet_diagnostics()
{
    return std::make_shared<NullOutputStream>();
}

} // namespace signet::spec
