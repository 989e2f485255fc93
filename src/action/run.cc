#include "action/run.h"

#include <cstdio>
#include <optional>

#include "action/kubeconfig_input.h"
#include "action/workflow_commands.h"
#include "core/log.h"
#include "flux/credentials.h"

namespace fluxkey::action {
namespace {

std::string describe(const std::string& kind, const std::string& ns, const std::string& name) {
  return kind + " " + ns + "/" + name;
}

// ::group:: and ::stop-commands:: opened around the reconcile's progress and
// closed on every way out, so an exception never leaves the log folded or
// the runner deaf to the commands that follow.
class ProgressSection {
 public:
  ProgressSection(WorkflowCommands& commands, const std::string& title) : commands_(commands) {
    commands_.group(title);
    token_ = commands_.stop_commands();
  }
  ~ProgressSection() {
    commands_.resume_commands(token_);
    commands_.end_group();
  }
  ProgressSection(const ProgressSection&) = delete;
  ProgressSection& operator=(const ProgressSection&) = delete;

 private:
  WorkflowCommands& commands_;
  std::string token_;
};

void take_result(Outcome& outcome, const flux::ReconcileResult& result) {
  outcome.ready = result.ready;
  outcome.revision = result.revision;
  outcome.message = result.message;
  if (result.duration.count() > 0) outcome.duration = result.duration;
  if (!result.objects.empty()) {
    const auto& target = result.objects.back();
    outcome.object = describe(target.kind, target.namespace_, target.name);
    if (outcome.with_source && result.objects.size() > 1) {
      const auto& source = result.objects.front();
      outcome.source = describe(source.kind, source.namespace_, source.name);
    }
  }
}

std::string error_title(ExitCode code) {
  switch (code) {
    case ExitCode::kUsage:
      return "fluxkey";
    case ExitCode::kTimeout:
      return "fluxkey reconcile timed out";
    default:
      return "fluxkey reconcile failed";
  }
}

// Writes the outputs and the summary where the runner asked for them; a
// step run outside a runner has neither variable and skips both.
void report(const ActionContext& context, const Outcome& outcome, WorkflowCommands& commands,
            ExitCode& code) {
  auto write = [&](const char* variable, const std::string& content) {
    std::optional<std::string> path = context.env(variable);
    if (!path || path->empty()) return;
    try {
      append_to_file(variable, *path, content);
    } catch (const Error& e) {
      commands.error(e.what(), "fluxkey");
      if (code == ExitCode::kOk) code = ExitCode::kFailed;
    }
  };
  std::string outputs = format_output("ready", outcome.ready ? "true" : "false") +
                        format_output("revision", outcome.revision) +
                        format_output("message", outcome.message) +
                        format_output("duration-seconds", format_seconds(outcome.duration));
  write("GITHUB_OUTPUT", outputs);
  write("GITHUB_STEP_SUMMARY", summary_markdown(outcome));
}

}  // namespace

std::string format_seconds(std::chrono::milliseconds duration) {
  long long tenths = (duration.count() + 50) / 100;
  return std::to_string(tenths / 10) + "." + std::to_string(tenths % 10);
}

std::string summary_markdown(const Outcome& outcome) {
  const bool ok = outcome.code == ExitCode::kOk && outcome.ready;
  std::string md = "### fluxkey reconcile " + std::string(ok ? "✅" : "❌") + "\n\n";
  md += "| | |\n|---|---|\n";
  md += "| Object | " + (outcome.object.empty() ? "—" : markdown_cell(outcome.object)) + " |\n";
  if (outcome.with_source) {
    md += "| Source | " + (outcome.source.empty() ? "—" : markdown_cell(outcome.source)) + " |\n";
  }
  md += "| Revision | " +
        (outcome.revision.empty() ? "—" : "<code>" + markdown_cell(outcome.revision) + "</code>") +
        " |\n";
  md += "| Result | " + std::string(ok ? "✅ " : "❌ ") + markdown_cell(outcome.message) + " |\n";
  md += "| Duration | " + format_seconds(outcome.duration) + " s |\n\n";
  return md;
}

ExitCode run_action(const ActionContext& context) {
  WorkflowCommands commands(context.out);
  // First of all, before any other line and any request: the runner hides
  // a masked value from every later line of the log.
  const std::string input = raw_kubeconfig_input(context.env);
  for (const std::string& secret : secrets_in_input(input)) commands.add_mask(secret);
  // A re-run with debug logging enabled: the requests join the step's log.
  if (context.env("RUNNER_DEBUG") == "1") logger().set_verbose(true);

  Outcome outcome;
  const auto started = std::chrono::steady_clock::now();
  // Kept for the message of a 401: which server refused which credentials.
  kube::RestConfig refused;
  try {
    flux::ReconcileOptions options = reconcile_inputs(context.env);
    outcome.with_source = options.with_source;
    outcome.object = describe(options.kind, options.namespace_, options.name);
    const Clock::time_point now = context.now();
    kube::RestConfig config = load_input(input, now);
    if (auto expiry = flux::jwt_expiry(config.token.str());
        expiry && *expiry < now + options.timeout) {
      commands.warning("the token in the kubeconfig input expires at " + format_rfc3339(*expiry) +
                           ", before the timeout of " + format_duration(options.timeout) +
                           " is over; the fluxkey CronJob should have renewed it (check `fluxkey "
                           "status`)",
                       "fluxkey");
    }
    ProgressSection section(commands, "Reconcile " + outcome.object);
    logger().info("connecting to " + config.server + " with the " + config.origin);
    refused = config;
    std::unique_ptr<kube::Client> client = context.make_client(std::move(config));
    take_result(outcome, context.reconcile(options, *client));
    outcome.code = outcome.ready ? ExitCode::kOk : ExitCode::kFailed;
    if (!outcome.ready && outcome.message.empty()) outcome.message = "not ready";
  } catch (const flux::ReconcileError& e) {
    take_result(outcome, e.result());
    outcome.ready = false;
    outcome.code = e.code();
    outcome.message = e.message();
  } catch (const kube::ApiError& e) {
    outcome.ready = false;
    outcome.code = e.code();
    outcome.message =
        e.status() == 401 ? flux::unauthorized_message(refused, context.now()) : e.what();
  } catch (const Error& e) {
    outcome.ready = false;
    outcome.code = e.code();
    outcome.message = e.what();
  } catch (const std::exception& e) {
    outcome.ready = false;
    outcome.code = ExitCode::kFailed;
    outcome.message = std::string("unexpected failure: ") + e.what();
  }
  if (outcome.duration.count() == 0) {
    outcome.duration = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - started);
  }

  ExitCode code = outcome.code;
  if (code != ExitCode::kOk) commands.error(outcome.message, error_title(code));
  report(context, outcome, commands, code);
  if (outcome.code == ExitCode::kOk) {
    commands.line(outcome.object + " is ready" +
                  (outcome.revision.empty() ? "" : " at revision " + outcome.revision) + " (" +
                  format_seconds(outcome.duration) + " s)");
  }
  return code;
}

}  // namespace fluxkey::action
