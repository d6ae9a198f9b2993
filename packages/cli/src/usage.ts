/** What the user typed cannot be run: the message says in one line what to type instead (exit code 2). */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly command?: string,
  ) {
    super(message);
    this.name = 'UsageError';
  }
}

const CONNECTION = `Where the API is (every command):
  --api <url>       the API's URL (env OPTIINFRA_API_URL; default http://127.0.0.1:8080, npm start's)
  --token <token>   a bearer token of the local API_TOKENS (env OPTIINFRA_API_TOKEN)
  --stack <name>    a deployed stack, such as OptiInfraOrchestrator-dev-Stateless: reads its ApiUrl
                    output and signs requests with SigV4 from the default AWS credentials
  --region <name>   the stack's region (default AWS_REGION or your profile's)
  --json            print JSON instead of text`;

const HELP: Record<string, string> = {
  '': `optiinfra: submit tasks to the OptiInfra Orchestrator and follow them

Usage: optiinfra <command> [options]

Commands:
  run <capability> --type <agent type>   submit a task (--wait: wait for its result)
  tasks                                  list tasks, newest first
  task <id>                              show a task and why its agent was chosen
  cancel <id>                            cancel an unfinished task
  agents                                 list agents with their load and health
  console                                the web console on this machine, against the API

${CONNECTION}

Exit codes: 0 done (a waited task completed), 1 the task failed, timed out or was cancelled (or
the API refused the call), 2 bad usage, 3 the API could not be reached.
Run optiinfra <command> --help for a command's options.`,
  run: `Usage: optiinfra run <capability> --type <agent type> [options]

  -t, --type <t>          agent type that serves the capability, such as cost (required)
  -p, --param key=value   a parameter, as a string; key:=json for a number, true, array or object
                          (repeat: -p account_id=123 -p days:=7)
  --priority <n>          1-15, or low, normal, high, critical (default normal: 5)
  --timeout <s>           seconds per attempt (default 30)
  --max-retries <n>       retries after a failed attempt, 0-10 (default 3)
  --agent <id>            send it to this agent only
  -w, --wait              wait for the task to end: a progress line on stderr, then the result
  --wait-timeout <s>      with --wait, give up waiting after this long (the task goes on)

${CONNECTION}`,
  tasks: `Usage: optiinfra tasks [--status <s>] [--type <agent type>] [--limit <n>]

  --status <s>   pending, sent, running, retrying, completed, failed, timeout or cancelled
  -t, --type <t> only tasks for this agent type
  --limit <n>    at most this many tasks (default 20)

${CONNECTION}`,
  task: `Usage: optiinfra task <id>

Shows the task: status, attempts, the agent that ran it and why it was chosen, and its result.

${CONNECTION}`,
  cancel: `Usage: optiinfra cancel <id>

Cancels a task that has not ended (an agent working on an accepted task is told to stop).

${CONNECTION}`,
  agents: `Usage: optiinfra agents [--type <t>] [--status healthy|unhealthy|draining]

${CONNECTION}`,
  console: `Usage: optiinfra console [--stack <name> | --api <url>] [--port <n>]

Serves the console page at http://127.0.0.1:<port>/ui/ and forwards its calls to the API: signed
with SigV4 for a deployed stack (--stack), with --token or the page's own token otherwise. The page
holds no AWS credentials. With --stack its metrics come from CloudWatch (GetMetricData); the
credentials need execute-api:Invoke, cloudwatch:GetMetricData and cloudformation:DescribeStacks.
Ctrl-C stops it.

  --port <n>     the port on 127.0.0.1 (default 8090; 0 picks a free one)

${CONNECTION}`,
};

export function helpText(topic = ''): string | undefined {
  return HELP[topic];
}
