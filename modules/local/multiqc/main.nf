process MULTIQC {
    label 'process_single'

    conda "${moduleDir}/environment.yml"
    container "${ workflow.containerEngine in ['singularity', 'apptainer'] && !task.ext.singularity_pull_docker_container ?
        'https://depot.galaxyproject.org/singularity/multiqc:1.35--pyhdfd78af_1' :
        'quay.io/biocontainers/multiqc:1.35--pyhdfd78af_1' }"

    input:
    // every file in its own numbered folder: two samples' files of the same name do not collide
    path(multiqc_files, stageAs: "?/*")
    path(multiqc_config)

    output:
    path "multiqc_report.html", emit: report
    path "multiqc_data"       , emit: data
    tuple val("${task.process}"), val('multiqc'), eval("multiqc --version | sed 's/^.* //'"), emit: versions_multiqc, topic: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def config = multiqc_config ? "--config ${multiqc_config}" : ''
    // fixed names: with --title MultiQC would name both files after the title
    """
    multiqc \\
        --force \\
        --no-version-check \\
        --filename multiqc_report.html \\
        --cl-config 'data_dir_name: multiqc_data' \\
        ${config} \\
        ${args} \\
        .
    """

    stub:
    """
    mkdir multiqc_data
    touch multiqc_report.html
    """
}
