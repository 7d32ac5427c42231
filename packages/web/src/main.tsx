/** Entry point: mounts the app. */
import { createRoot } from "react-dom/client";
import { App } from "./app/App.js";
import "./ui/styles.css";

const root = document.getElementById("root");
if (root !== null) createRoot(root).render(<App />);
