import { AgentsPage } from './agents-page';
import { useConnection, useRoute } from './hooks';
import { MetricsPage } from './metrics-page';
import type { Route } from './route';
import { SubmitForm } from './submit-form';
import { TaskPage } from './task-page';
import { TasksPage } from './tasks-page';
import { TokenForm } from './token-form';

const NAV = [
  { page: 'tasks', label: 'Tasks', testId: 'nav-tasks' },
  { page: 'agents', label: 'Agents', testId: 'nav-agents' },
  { page: 'metrics', label: 'Metrics', testId: 'nav-metrics' },
] as const;

function Page({ route }: { route: Route }) {
  switch (route.page) {
    case 'task':
      return <TaskPage key={route.id} id={route.id} />;
    case 'agents':
      return <AgentsPage />;
    case 'metrics':
      return <MetricsPage />;
    case 'submit':
      return <SubmitForm />;
    default:
      return <TasksPage />;
  }
}

export function App() {
  const route = useRoute();
  const connection = useConnection();
  const current = route.page === 'task' || route.page === 'submit' ? 'tasks' : route.page;
  return (
    <>
      <header>
        <a class="brand" href="#/tasks">
          OptiInfra Orchestrator
        </a>
        <nav>
          {NAV.map((item) => (
            <a key={item.page} href={`#/${item.page}`} data-testid={item.testId} class={current === item.page ? 'current' : undefined}>
              {item.label}
            </a>
          ))}
        </nav>
      </header>
      {connection.unreachable !== undefined && (
        <p class="banner" role="alert" data-testid="network-banner">
          The orchestrator does not answer ({connection.unreachable}). Trying again every few seconds.
        </p>
      )}
      {connection.needsToken && <TokenForm problem={connection.tokenProblem} />}
      <main>
        <Page route={route} />
      </main>
    </>
  );
}
