process SPLAMFLOW_SCORE {
    tag "${meta.id}"
    label 'process_medium'
    label 'process_gpu'

    conda "${moduleDir}/environment.yml"
    container "${ task.accelerator?.request ? 'ghcr.io/splamflow/splamflow:0.1.0-cuda' : 'ghcr.io/splamflow/splamflow:0.1.0' }"

    input:
    tuple val(meta), path(junctions)
    tuple val(meta2), path(fasta), path(fasta_index)
    path(model)

    output:
    tuple val(meta), path("*.scores.bed")      , emit: bed
    tuple val(meta), path("*.score_stats.json"), emit: stats
    // the three versions come from one Python call, made by the script (tool_versions.txt)
    tuple val("${task.process}"), val('splamflow'), eval("sed -n s/^splamflow=//p tool_versions.txt"), emit: versions_splamflow, topic: versions
    tuple val("${task.process}"), val('torch'), eval("sed -n s/^torch=//p tool_versions.txt"), emit: versions_torch, topic: versions
    tuple val("${task.process}"), val('cuda'), eval("sed -n s/^cuda=//p tool_versions.txt"), emit: versions_cuda, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def device = task.accelerator?.request ? 'cuda' : 'cpu'
    // `model` is empty (the default model shipped inside the package), or the weights, optionally
    // staged together with their JSON metadata
    def weights = [model].flatten().find { m -> !m.name.endsWith('.json') }
    def model_arg = weights ? "--model ${weights}" : ''
    """
    splam_score.py score \\
        ${junctions} \\
        --genome ${fasta} \\
        ${model_arg} \\
        --device ${device} \\
        --threads ${task.cpus} \\
        --stats ${prefix}.score_stats.json \\
        -o ${prefix}.scores.bed \\
        ${args}

    splam_score.py --tool-versions > tool_versions.txt
    """

    stub:
    def args = task.ext.args ?: ''
    def prefix = task.ext.prefix ?: "${meta.id}"
    def device = task.accelerator?.request ? 'cuda' : 'cpu'
    """
    echo "splam_score.py score --device ${device} ${args}"
    touch ${prefix}.scores.bed
    echo '{}' > ${prefix}.score_stats.json
    splam_score.py --tool-versions > tool_versions.txt
    """
}
