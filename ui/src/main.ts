import './styles.css';
import { pickBackend } from './backend/select';
import { App } from './screens/App';

const root = document.getElementById('app');
if (root) {
  void pickBackend().then((backend) => new App(root, backend).start());
}
